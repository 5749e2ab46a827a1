// libFuzzer target: the ELF reader (32/64-bit, either byte order) on arbitrary bytes, then
// everything the pipeline reads of an image that opened (see FuzzObjects.walk).
import FuzzDriver
import FuzzObjects
import ObjectFile

runFuzzer { bytes in
    let file = MappedFile(bytes: Array(bytes), name: "fuzz.elf")
    guard let elf = try? ELFFile(file: file) else { return }
    walk(elf)
    if let object = try? ObjectFile(file: file) { walk(object) }
}
