import Foundation

extension ELFFile {
    /// Marks the sections at `indices` of the relocatable object at `path` with `SHF_GNU_RETAIN`,
    /// rewriting their `sh_flags` in place: the link roots of a `--gc-sections` link, whatever the
    /// binding or visibility of the symbols in them.
    ///
    /// Only the flag fields are written (the object is not read into memory and written back):
    /// the same field arithmetic as ``ELFFileEditor/setFlags(_:ofSection:)``, applied to the file.
    public static func retainSections(_ indices: Set<Int>, inObjectAt path: String) throws(ObjectFileError) {
        guard !indices.isEmpty else { return }
        let elf = try ELFFile(file: MappedFile(path: path))
        guard elf.fileType == .relocatable else {
            throw ObjectFileError(.unsupported, path: path, what: "section flags are only rewritten in relocatable objects")
        }
        let geometry = ELFGeometry(elf)
        var edits: [(offset: UInt64, bytes: [UInt8])] = []
        for index in indices.sorted() {
            guard index > 0, let header = geometry.sectionHeaderOffset(index),
                  let bytes = geometry.encodeWord(elf.sections[index].flags | ELF.SectionFlags.gnuRetain)
            else {
                throw ObjectFileError(.malformed, path: path, what: "section index \(index) out of range", expected: "< \(elf.sections.count)")
            }
            edits.append((header + UInt64(geometry.layout.sectionFlagsField), bytes))
        }
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw ObjectFileError(.cannotOpen, path: path, what: "cannot open for writing")
        }
        defer { try? handle.close() }
        do {
            for edit in edits {
                try handle.seek(toOffset: edit.offset)
                try handle.write(contentsOf: edit.bytes)
            }
        } catch {
            throw ObjectFileError(.cannotOpen, path: path, what: "cannot write section flags: \(error)")
        }
    }
}
