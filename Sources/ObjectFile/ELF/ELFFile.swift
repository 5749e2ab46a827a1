/// An ELF file (32- or 64-bit, either byte order): its header, section headers and program headers.
///
/// Symbols are read on demand by ``forEachSymbol(in:_:)``; relocations by ``relocations(in:)``.
public struct ELFFile: Sendable {
    /// One section header, with its name resolved.
    public struct Section: Sendable, Hashable {
        public var index: Int
        public var name: String
        public var type: UInt32
        public var flags: UInt64
        public var address: UInt64
        public var offset: UInt64
        public var size: UInt64
        public var link: UInt32
        public var info: UInt32
        public var alignment: UInt64
        public var entrySize: UInt64

        /// Whether the section occupies bytes in the file (everything but `SHT_NOBITS`).
        public var hasFileBytes: Bool { type != ELF.SectionType.nobits }
    }

    /// One program header.
    public struct ProgramHeader: Sendable, Hashable {
        public var type: UInt32
        public var flags: UInt32
        public var offset: UInt64
        public var virtualAddress: UInt64
        public var physicalAddress: UInt64
        public var fileSize: UInt64
        public var memSize: UInt64
        public var alignment: UInt64

        /// `PT_TLS`.
        public var isTLS: Bool { type == ELF.ProgramHeaderType.tls }
    }

    /// The mapped file this was read from (kept alive for symbol and relocation reads).
    public let file: MappedFile
    public let is64: Bool
    public let isBigEndian: Bool
    /// `e_type` (1 relocatable, 2 executable, 3 shared object or PIE).
    public let type: UInt16
    /// `e_machine`.
    public let machine: UInt16
    public let entry: UInt64
    public let sections: [Section]
    public let programHeaders: [ProgramHeader]
    /// `e_shoff` and `e_shentsize`: where the section header table is (for tools that edit headers in place).
    public let sectionHeaderTableOffset: UInt64
    public let sectionHeaderEntrySize: UInt16

    /// The sizes and field offsets of this file's class.
    public var layout: ELF.Layout { ELF.Layout(is64: is64) }

    /// Architecture name in LLVM's spelling: `x86_64`, `i386`, `aarch64`, `arm`, `powerpc64`, `mips`, …
    public var architecture: String { ELF.Machine.architectureName(machine, is64: is64) }

    /// Relocatable, executable (`ET_EXEC`, or `ET_DYN` with `PT_INTERP`), or shared library.
    public var fileType: ObjectFileType {
        switch type {
        case ELF.FileType.relocatable: .relocatable
        case ELF.FileType.executable: .executable
        case ELF.FileType.sharedObject: programHeaders.contains { $0.type == ELF.ProgramHeaderType.interp } ? .executable : .sharedLibrary
        default: .other
        }
    }

    /// The `PT_TLS` segment, if the image has thread-locals.
    public var tlsSegment: TLSSegment? {
        programHeaders.first(where: \.isTLS).map {
            TLSSegment(address: $0.virtualAddress, fileSize: $0.fileSize, memSize: $0.memSize, alignment: $0.alignment)
        }
    }

    /// The first section named `name`.
    public func section(named name: String) -> Section? {
        sections.first { $0.name == name }
    }

    /// Reads the ELF header, section headers and program headers of `file`.
    public init(file: MappedFile) throws(ObjectFileError) {
        try self.init(file: file, view: ByteView(bytes: file.bytes, path: file.path))
    }

    init(file: MappedFile, view unordered: ByteView) throws(ObjectFileError) {
        self.file = file
        guard unordered.count >= 16 else {
            throw unordered.truncated("ELF identification", at: 0, expected: 16)
        }
        let elfClass = unordered.u8(at: ELF.Identification.classOffset)
        let data = unordered.u8(at: ELF.Identification.dataOffset)
        guard elfClass == ELF.Identification.class32 || elfClass == ELF.Identification.class64 else {
            throw unordered.error(.malformed, "bad ELF class", at: UInt64(ELF.Identification.classOffset),
                                  expected: "1 (32-bit) or 2 (64-bit)", found: "found \(elfClass)")
        }
        guard data == ELF.Identification.dataLittleEndian || data == ELF.Identification.dataBigEndian else {
            throw unordered.error(.malformed, "bad ELF data encoding", at: UInt64(ELF.Identification.dataOffset),
                                  expected: "1 (little-endian) or 2 (big-endian)", found: "found \(data)")
        }
        is64 = elfClass == ELF.Identification.class64
        isBigEndian = data == ELF.Identification.dataBigEndian
        let view = unordered.with(bigEndian: isBigEndian)
        let layout = ELF.Layout(is64: is64)
        let h = try view.range(0, UInt64(layout.headerSize), "ELF header")
        type = view.u16(at: h + 16)
        machine = view.u16(at: h + 18)
        entry = view.word(at: h + 24, is64: is64)
        let phoff = view.word(at: is64 ? 32 : 28, is64: is64)
        let shoff = view.word(at: is64 ? 40 : 32, is64: is64)
        let phentsize = view.u16(at: is64 ? 54 : 42)
        let phnum = view.u16(at: is64 ? 56 : 44)
        let shentsize = view.u16(at: is64 ? 58 : 46)
        let shnum = view.u16(at: is64 ? 60 : 48)
        let shstrndx = view.u16(at: is64 ? 62 : 50)
        sectionHeaderTableOffset = shoff
        sectionHeaderEntrySize = shentsize

        sections = try Self.readSections(
            view, layout: layout, offset: shoff, entrySize: shentsize, count: shnum, nameIndex: shstrndx)
        programHeaders = try Self.readProgramHeaders(
            view, layout: layout, offset: phoff, entrySize: phentsize, count: phnum, sectionZero: sections.first)
    }

    private static func readSections(
        _ view: ByteView, layout: ELF.Layout, offset: UInt64, entrySize: UInt16, count declared: UInt16, nameIndex: UInt16
    ) throws(ObjectFileError) -> [Section] {
        guard offset != 0 else { return [] }
        let is64 = layout.is64
        guard Int(entrySize) >= layout.sectionHeaderSize else {
            throw view.error(.malformed, "bad section header size (e_shentsize)", at: UInt64(is64 ? 58 : 46),
                             expected: "at least \(layout.sectionHeaderSize)", found: "found \(entrySize)")
        }
        // Extended numbering: with 0xff00 or more sections, e_shnum is 0 and section 0 holds the count.
        var count = UInt64(declared)
        var stringIndex = UInt64(nameIndex)
        if declared == 0 || nameIndex == ELF.SectionIndex.xindex {
            let zero = try view.range(offset, UInt64(entrySize), "section header table")
            if declared == 0 { count = view.word(at: zero + (is64 ? 32 : 20), is64: is64) }
            if nameIndex == ELF.SectionIndex.xindex { stringIndex = UInt64(view.u32(at: zero + (is64 ? 40 : 24))) }
        }
        let start = try view.table(offset, count: count, entrySize: UInt64(entrySize), "section header table")

        var raw: [Section] = []
        raw.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            let s = start + index * Int(entrySize)
            raw.append(Section(
                index: index,
                name: "",
                type: view.u32(at: s + 4),
                flags: view.word(at: s + layout.sectionFlagsField, is64: is64),
                address: view.word(at: s + (is64 ? 16 : 12), is64: is64),
                offset: view.word(at: s + layout.sectionOffsetField, is64: is64),
                size: view.word(at: s + layout.sectionSizeField, is64: is64),
                link: view.u32(at: s + (is64 ? 40 : 24)),
                info: view.u32(at: s + (is64 ? 44 : 28)),
                alignment: view.word(at: s + (is64 ? 48 : 32), is64: is64),
                entrySize: view.word(at: s + (is64 ? 56 : 36), is64: is64)))
        }
        guard stringIndex != 0 else { return raw }
        guard stringIndex < count else {
            throw view.error(.malformed, "section name table index (e_shstrndx) out of range", at: UInt64(is64 ? 62 : 50),
                             expected: "an index below \(count)", found: "found \(stringIndex)")
        }
        let nameSection = raw[Int(stringIndex)]
        let names = try StringTable(
            view: view, offset: nameSection.offset, size: nameSection.size, what: "section name table")
        for index in raw.indices {
            raw[index].name = try names.string(
                at: view.u32(at: start + index * Int(entrySize)), for: "section \(index)",
                entryOffset: start + index * Int(entrySize))
        }
        return raw
    }

    private static func readProgramHeaders(
        _ view: ByteView, layout: ELF.Layout, offset: UInt64, entrySize: UInt16, count declared: UInt16,
        sectionZero: Section?
    ) throws(ObjectFileError) -> [ProgramHeader] {
        guard offset != 0, declared != 0 else { return [] }
        let is64 = layout.is64
        guard Int(entrySize) >= layout.programHeaderSize else {
            throw view.error(.malformed, "bad program header size (e_phentsize)", at: UInt64(is64 ? 54 : 42),
                             expected: "at least \(layout.programHeaderSize)", found: "found \(entrySize)")
        }
        // PN_XNUM: the real count is in section 0's sh_info.
        var count = UInt64(declared)
        if declared == 0xffff, let sectionZero { count = UInt64(sectionZero.info) }
        let start = try view.table(offset, count: count, entrySize: UInt64(entrySize), "program header table")
        var headers: [ProgramHeader] = []
        headers.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            let p = start + index * Int(entrySize)
            if is64 {
                headers.append(ProgramHeader(
                    type: view.u32(at: p), flags: view.u32(at: p + 4), offset: view.u64(at: p + 8),
                    virtualAddress: view.u64(at: p + 16), physicalAddress: view.u64(at: p + 24),
                    fileSize: view.u64(at: p + 32), memSize: view.u64(at: p + 40), alignment: view.u64(at: p + 48)))
            } else {
                headers.append(ProgramHeader(
                    type: view.u32(at: p), flags: view.u32(at: p + 24), offset: UInt64(view.u32(at: p + 4)),
                    virtualAddress: UInt64(view.u32(at: p + 8)), physicalAddress: UInt64(view.u32(at: p + 12)),
                    fileSize: UInt64(view.u32(at: p + 16)), memSize: UInt64(view.u32(at: p + 20)),
                    alignment: UInt64(view.u32(at: p + 28))))
            }
        }
        return headers
    }

    /// A view on the whole file in this file's byte order.
    var view: ByteView {
        ByteView(bytes: file.bytes, path: file.path, bigEndian: isBigEndian)
    }

    /// A copy of a section's file bytes (empty for `SHT_NOBITS`).
    public func contents(of section: Section) throws(ObjectFileError) -> [UInt8] {
        guard section.hasFileBytes else { return [] }
        let start = try view.range(section.offset, section.size, "contents of section \(section.name)")
        return file.copyBytes(start..<start + Int(section.size))
    }
}
