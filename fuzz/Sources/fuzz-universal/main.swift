// libFuzzer target: the universal (fat) Mach-O reader: the slice table, then each slice's Mach-O
// image, chosen by architecture as `ObjectFile` does.
import FuzzDriver
import FuzzObjects
import ObjectFile

runFuzzer { bytes in
    let file = MappedFile(bytes: Array(bytes), name: "fuzz.fat")
    guard let fat = try? UniversalFile(file: file) else { return }
    for slice in fat.slices {
        if let macho = try? fat.machO(slice) { walk(macho) }
    }
    for architecture in [nil, "arm64", "x86_64"] as [String?] {
        _ = try? fat.slice(for: architecture)
        if let object = try? ObjectFile(file: file, architecture: architecture) { walk(object) }
    }
}
