import Foundation

extension ELF {
    /// `SHF_GNU_RETAIN`: the linker's `--gc-sections` keeps the section even when nothing refers
    /// to it (GNU ld 2.36, lld 13).
    static let shfGnuRetain: UInt64 = 0x20_0000
}

extension ELFFile {
    /// Marks the sections at `indices` of the relocatable object at `path` with `SHF_GNU_RETAIN`,
    /// rewriting their `sh_flags` in place: the link roots of a `--gc-sections` link, whatever the
    /// binding or visibility of the symbols in them.
    public static func retainSections(_ indices: Set<Int>, inObjectAt path: String) throws(ObjectFileError) {
        guard !indices.isEmpty else { return }
        let elf = try ELFFile(file: MappedFile(path: path))
        guard elf.fileType == .relocatable else {
            throw ObjectFileError(.unsupported, path: path, what: "section flags are only rewritten in relocatable objects")
        }
        var edits: [(offset: UInt64, bytes: [UInt8])] = []
        for index in indices.sorted() {
            guard index > 0, index < elf.sections.count else {
                throw ObjectFileError(.malformed, path: path, what: "section index \(index) out of range", expected: "< \(elf.sections.count)")
            }
            let flags = elf.sections[index].flags | ELF.shfGnuRetain
            // sh_flags follows sh_name and sh_type (4 bytes each) in both classes; 8 bytes wide in ELF64.
            let offset = elf.sectionHeaderTableOffset + UInt64(index) * UInt64(elf.sectionHeaderEntrySize) + 8
            let width = elf.is64 ? 8 : 4
            let bytes = (0..<width).map { byte -> UInt8 in
                let shift = UInt64(elf.isBigEndian ? (width - 1 - byte) * 8 : byte * 8)
                return UInt8(truncatingIfNeeded: flags >> shift)
            }
            edits.append((offset, bytes))
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
