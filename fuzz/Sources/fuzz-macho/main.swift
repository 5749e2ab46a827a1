// libFuzzer target: the thin Mach-O reader (load commands, sections, LC_SYMTAB) on arbitrary
// bytes, then everything the pipeline reads of an image that opened (see FuzzObjects.walk).
import FuzzDriver
import FuzzObjects
import ObjectFile

runFuzzer { bytes in
    let file = MappedFile(bytes: Array(bytes), name: "fuzz.macho")
    guard let macho = try? MachOFile(file: file) else { return }
    walk(macho)
    if let object = try? ObjectFile(file: file) { walk(object) }
}
