/// An ELF file's bytes held for editing in place: integers at file offsets, section header fields,
/// symbol names and relocation entries, in the file's own class and byte order, and sections
/// moved to new contents appended at the end of the file, so no other offset shifts.
///
/// It knows where fields are and how they are spelled, not what to change: that is the caller's
/// policy. Every access is bounds-checked and throws ``ObjectFileError`` (`.truncated` for an edit
/// outside the file, `.malformed` for an index with no entry or a value the field can't hold).
/// ``sections`` are the headers as read: moving a section doesn't update them.
public struct ELFFileEditor: Sendable {
    /// The name errors report.
    public let path: String
    /// The file's bytes with the edits so far.
    public private(set) var bytes: [UInt8]
    /// The section headers as read from the original bytes.
    public let sections: [ELFFile.Section]
    let geometry: ELFGeometry

    /// An editor of `bytes`, whose headers `elf` was read from (e.g. with ``MappedFile/init(bytes:name:)``).
    public init(bytes: [UInt8], headersOf elf: ELFFile) throws(ObjectFileError) {
        path = elf.file.path
        guard bytes.count == elf.file.count else {
            throw ObjectFileError(.malformed, path: path, what: "the bytes to edit are not the file the headers were read from",
                                  expected: "\(elf.file.count) bytes", found: "found \(bytes.count)")
        }
        self.bytes = bytes
        sections = elf.sections
        geometry = ELFGeometry(elf)
    }

    /// The ELF class whose structures the file uses.
    public var layout: ELF.Layout { geometry.layout }
    public var isBigEndian: Bool { geometry.bigEndian }

    /// Reserves room for `additional` more bytes, so appending sections doesn't copy the file again.
    public mutating func reserveCapacity(forAppending additional: Int) {
        bytes.reserveCapacity(bytes.count + max(0, additional))
    }

    // MARK: Integers

    /// The integer at file offset `offset`, in the file's byte order.
    public func read<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws(ObjectFileError) -> T {
        let width = T.bitWidth / 8
        try checkRange(offset, width)
        var value = T.zero
        for index in 0..<width {
            value = value << 8 | T(truncatingIfNeeded: bytes[offset + (isBigEndian ? index : width - 1 - index)])
        }
        return value
    }

    /// Writes `value` at file offset `offset`, in the file's byte order.
    public mutating func write<T: FixedWidthInteger>(_ value: T, at offset: Int) throws(ObjectFileError) {
        try write(bytes: geometry.encode(value), at: offset)
    }

    /// Writes a word field (8 bytes in ELF64, 4 in ELF32).
    mutating func writeWord(_ value: UInt64, at offset: Int, _ what: @autoclosure () -> String) throws(ObjectFileError) {
        guard let encoded = geometry.encodeWord(value) else {
            throw ObjectFileError(.malformed, path: path, what: "\(what()) does not fit a 32-bit ELF field",
                                  expected: "at most \(UInt32.max)", found: "found \(value)")
        }
        try write(bytes: encoded, at: offset)
    }

    private mutating func write(bytes encoded: [UInt8], at offset: Int) throws(ObjectFileError) {
        try checkRange(offset, encoded.count)
        bytes.replaceSubrange(offset..<offset + encoded.count, with: encoded)
    }

    private func checkRange(_ offset: Int, _ width: Int) throws(ObjectFileError) {
        guard offset >= 0, bytes.count >= width, offset <= bytes.count - width else {
            throw ObjectFileError(.truncated, path: path, what: "an edit at file offset \(offset) lies outside the object",
                                  expected: "\(width) bytes", found: "\(max(0, bytes.count - max(0, offset))) available")
        }
    }

    // MARK: Sections

    /// A copy of `section`'s bytes where its header (as read) places them, edits included; empty
    /// for `SHT_NOBITS`.
    public func contents(of section: ELFFile.Section) throws(ObjectFileError) -> [UInt8] {
        guard section.hasFileBytes else { return [] }
        let (end, overflow) = section.offset.addingReportingOverflow(section.size)
        guard !overflow, end <= UInt64(bytes.count) else {
            throw ObjectFileError(.truncated, path: path, offset: section.offset, what: "section \(section.name) lies outside the file",
                                  expected: "\(section.size) bytes", found: "\(bytes.count) in the file")
        }
        return Array(bytes[Int(section.offset)..<Int(end)])
    }

    /// The file offset of section header `index`.
    public func sectionHeaderOffset(_ index: Int) throws(ObjectFileError) -> Int {
        guard let offset = geometry.sectionHeaderOffset(index).flatMap({ Int(exactly: $0) }) else {
            throw ObjectFileError(.malformed, path: path, what: "section index \(index) out of range", expected: "< \(sections.count)")
        }
        return offset
    }

    /// Rewrites section `index`'s `sh_flags`.
    public mutating func setFlags(_ flags: UInt64, ofSection index: Int) throws(ObjectFileError) {
        try writeWord(flags, at: sectionHeaderOffset(index) + layout.sectionFlagsField, "the flags of section \(index)")
    }

    /// Appends `contents` at the end of the file (zero-padded to `alignment`) and points section
    /// `index`'s `sh_offset` and `sh_size` at them: the section grows without moving anything else.
    public mutating func moveSection(_ index: Int, toAppended contents: [UInt8], alignment: Int) throws(ObjectFileError) {
        let header = try sectionHeaderOffset(index)
        let padding = alignment > 1 ? (alignment - bytes.count % alignment) % alignment : 0
        try writeWord(UInt64(bytes.count + padding), at: header + layout.sectionOffsetField, "the new offset of section \(index)")
        try writeWord(UInt64(contents.count), at: header + layout.sectionSizeField, "the new size of section \(index)")
        bytes.append(contentsOf: repeatElement(0, count: padding))
        bytes += contents
    }

    // MARK: Symbols

    /// The file offset of entry `index` of the symbol table `table`.
    public func symbolEntryOffset(_ index: Int, in table: ELFFile.Section) throws(ObjectFileError) -> Int {
        let stride = UInt64(max(layout.symbolSize, Int(clamping: table.entrySize)))
        guard index >= 0, UInt64(index) < table.size / stride else {
            throw ObjectFileError(.malformed, path: path, what: "symbol index \(index) out of range of \(table.name)",
                                  expected: "< \(table.size / stride)")
        }
        let (offset, overflow) = table.offset.addingReportingOverflow(UInt64(index) * stride)
        guard !overflow, let result = Int(exactly: offset) else {
            throw ObjectFileError(.truncated, path: path, what: "symbol \(index) of \(table.name) lies outside the file")
        }
        return result
    }

    /// Points symbol `index` of `table` at another name (`st_name`, an offset in its string table).
    public mutating func setNameOffset(_ nameOffset: UInt32, ofSymbol index: Int, in table: ELFFile.Section) throws(ObjectFileError) {
        try write(nameOffset, at: symbolEntryOffset(index, in: table) + layout.symbolNameField)
    }

    /// `symbol` as an entry of this file's symbol tables, to append to a moved copy of one.
    public func encode(_ symbol: ELFSymbolEntry) throws(ObjectFileError) -> [UInt8] {
        guard symbol.fits(layout) else {
            throw ObjectFileError(.malformed, path: path, what: "symbol value or size does not fit a 32-bit ELF symbol",
                                  found: "value \(symbol.value), size \(symbol.size)")
        }
        var out = ByteWriter(bigEndian: isBigEndian)
        symbol.append(to: &out, layout: layout)
        return out.bytes
    }

    // MARK: Relocations

    /// Rewrites the `Elf*_Rela` entry at file offset `entryOffset` (see
    /// ``ELFFile/fileOffset(ofEntry:in:)``) to `type` against symbol `symbolIndex` with `addend`;
    /// `r_offset` stays.
    public mutating func setRelocation(
        ofEntryAt entryOffset: Int, symbolIndex: UInt32, type: UInt32, addend: Int64
    ) throws(ObjectFileError) {
        try checkRange(entryOffset, layout.relaSize)
        try writeWord(layout.relocationInfo(symbolIndex: symbolIndex, type: type), at: entryOffset + layout.relocationInfoField,
                      "a relocation's info")
        if layout.is64 {
            try write(addend, at: entryOffset + layout.relocationAddendField)
        } else {
            guard let narrow = Int32(exactly: addend) else {
                throw ObjectFileError(.malformed, path: path, what: "addend does not fit a 32-bit ELF relocation", found: "found \(addend)")
            }
            try write(narrow, at: entryOffset + layout.relocationAddendField)
        }
    }
}
