/// Writes a minimal little-endian ELF64 relocatable object: the given content sections (numbered
/// 1…n in order), a `.rela` section for each that has relocations, an empty `.note.GNU-stack` (so
/// linkers keep the stack non-executable), `.symtab`, `.strtab` and `.shstrtab`. The stub (one
/// `.text`, no relocations) and the shared link's fixup object (trampolines and slots) are both
/// written by it.
///
/// The layout follows the System V gABI: symbol 0 is null, locals (one section symbol per content
/// section) come before globals and `.symtab`'s `sh_info` is the index of the first global.
struct ELFRelocatableWriter {
    /// One `SHT_PROGBITS` section.
    struct Section {
        var name: String
        var flags: UInt64
        var alignment: UInt64
        var bytes: [UInt8]
        var relocations: [Relocation] = []
    }

    /// An `Elf64_Rela` against one of the ``globals``, by name.
    struct Relocation {
        var offset: UInt64
        var symbol: String
        var type: UInt32
        var addend: Int64
    }

    /// A global symbol: defined in a content section (1…n) or at an absolute value, or undefined.
    struct Symbol {
        var name: String
        var value: UInt64
        var size: UInt64
        var type: UInt8
        var sectionIndex: UInt16
        /// Hidden (the default) is visible to the other objects of the link, never exported from
        /// the library, so it can't interpose on anything at load time.
        var hidden = true
    }

    static let textSectionIndex: UInt16 = 1
    static let undefinedSectionIndex: UInt16 = 0  // SHN_UNDEF
    static let absoluteSectionIndex: UInt16 = 0xfff1  // SHN_ABS
    static let typeNone: UInt8 = 0  // STT_NOTYPE
    static let typeObject: UInt8 = 1  // STT_OBJECT
    static let typeFunction: UInt8 = 2  // STT_FUNC
    static let flagsText: UInt64 = 0x6  // SHF_ALLOC | SHF_EXECINSTR
    static let flagsData: UInt64 = 0x3  // SHF_WRITE | SHF_ALLOC

    private static let typeSection: UInt8 = 3  // STT_SECTION
    private static let bindLocal: UInt8 = 0
    private static let bindGlobal: UInt8 = 1
    private static let visibilityHidden: UInt8 = 2  // STV_HIDDEN
    private static let headerSize = 64
    private static let sectionHeaderSize = 64
    private static let symbolSize = 24
    private static let relaSize = 24

    var machine: UInt16
    var sections: [Section]
    var globals: [Symbol]

    func bytes() throws(StubObjectError) -> [UInt8] {
        var strings = StringTable()
        let globalNames = try globals.map { symbol throws(StubObjectError) in try strings.add(symbol.name) }
        let firstGlobal = 1 + sections.count
        var symbolIndex: [String: UInt32] = [:]
        for (position, symbol) in globals.enumerated() { symbolIndex[symbol.name] = UInt32(firstGlobal + position) }

        var out = StubByteWriter()
        out.append(bytes: [UInt8](repeating: 0, count: Self.headerSize))  // patched below
        var contentOffsets: [Int] = []
        for section in sections {
            out.pad(toMultipleOf: Int(section.alignment))
            contentOffsets.append(out.count)
            out.append(bytes: section.bytes)
        }
        var relaOffsets: [Int?] = []
        for section in sections {
            guard !section.relocations.isEmpty else {
                relaOffsets.append(nil)
                continue
            }
            out.pad(toMultipleOf: 8)
            relaOffsets.append(out.count)
            for relocation in section.relocations {
                guard let symbol = symbolIndex[relocation.symbol] else { throw .invalidSymbolName(relocation.symbol) }
                out.append(relocation.offset)
                out.append(UInt64(symbol) << 32 | UInt64(relocation.type))
                out.append(relocation.addend)
            }
        }

        out.pad(toMultipleOf: 8)
        let symtabOffset = out.count
        // Null symbol, then one section symbol per content section, then the globals.
        out.append(bytes: [UInt8](repeating: 0, count: Self.symbolSize))
        for index in sections.indices {
            appendSymbol(&out, name: 0, info: Self.typeSection | (Self.bindLocal << 4), other: 0,
                         section: UInt16(index + 1), value: 0, size: 0)
        }
        for (symbol, name) in zip(globals, globalNames) {
            appendSymbol(&out, name: name, info: symbol.type | (Self.bindGlobal << 4),
                         other: symbol.hidden ? Self.visibilityHidden : 0,
                         section: symbol.sectionIndex, value: symbol.value, size: symbol.size)
        }
        let symtabSize = out.count - symtabOffset

        var sectionNames = StringTable()
        let contentNames = try sections.map { section throws(StubObjectError) in try sectionNames.add(section.name) }
        let relaNames = try sections.map { section throws(StubObjectError) in
            section.relocations.isEmpty ? nil : try sectionNames.add(".rela" + section.name)
        }
        let noteName = try sectionNames.add(".note.GNU-stack")
        let symtabName = try sectionNames.add(".symtab")
        let strtabName = try sectionNames.add(".strtab")
        let shstrtabName = try sectionNames.add(".shstrtab")
        let strtabOffset = out.count
        out.append(bytes: strings.bytes)
        let shstrtabOffset = out.count
        out.append(bytes: sectionNames.bytes)

        out.pad(toMultipleOf: 8)
        let sectionHeadersOffset = out.count
        guard sectionHeadersOffset <= Int(UInt32.max) else { throw .tooLarge("object file") }
        let relaCount = relaNames.compactMap { $0 }.count
        let symtabIndex = UInt32(sections.count + relaCount + 2)
        out.append(bytes: [UInt8](repeating: 0, count: Self.sectionHeaderSize))  // SHT_NULL
        for (index, section) in sections.enumerated() {
            appendSection(&out, name: contentNames[index], type: 1, flags: section.flags, offset: contentOffsets[index],
                          size: section.bytes.count, alignment: section.alignment)  // SHT_PROGBITS
        }
        for (index, section) in sections.enumerated() {
            guard let name = relaNames[index], let offset = relaOffsets[index] else { continue }
            appendSection(&out, name: name, type: 4, flags: 0x40, offset: offset,  // SHT_RELA, SHF_INFO_LINK
                          size: section.relocations.count * Self.relaSize, link: symtabIndex, info: UInt32(index + 1),
                          alignment: 8, entrySize: UInt64(Self.relaSize))
        }
        let noteOffset = (contentOffsets.last ?? Self.headerSize) + (sections.last?.bytes.count ?? 0)
        appendSection(&out, name: noteName, type: 1, flags: 0, offset: noteOffset, size: 0, alignment: 1)
        appendSection(&out, name: symtabName, type: 2, flags: 0, offset: symtabOffset, size: symtabSize,
                      link: symtabIndex + 1, info: UInt32(firstGlobal), alignment: 8, entrySize: UInt64(Self.symbolSize))
        appendSection(&out, name: strtabName, type: 3, flags: 0, offset: strtabOffset, size: strings.bytes.count,
                      alignment: 1)
        appendSection(&out, name: shstrtabName, type: 3, flags: 0, offset: shstrtabOffset,
                      size: sectionNames.bytes.count, alignment: 1)

        var bytes = out.bytes
        let header = fileHeader(
            sectionHeadersOffset: UInt64(sectionHeadersOffset), sectionCount: UInt16(symtabIndex + 3),
            namesIndex: UInt16(symtabIndex + 2))
        bytes.replaceSubrange(0..<Self.headerSize, with: header)
        return bytes
    }

    private func fileHeader(sectionHeadersOffset: UInt64, sectionCount: UInt16, namesIndex: UInt16) -> [UInt8] {
        var header = StubByteWriter()
        // EI_MAG, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE, padding.
        header.append(bytes: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        header.append(UInt16(1))  // ET_REL
        header.append(machine)
        header.append(UInt32(1))  // EV_CURRENT
        header.append(UInt64(0))  // e_entry
        header.append(UInt64(0))  // e_phoff
        header.append(sectionHeadersOffset)
        header.append(UInt32(0))  // e_flags
        header.append(UInt16(Self.headerSize))
        header.append(UInt16(0))  // e_phentsize
        header.append(UInt16(0))  // e_phnum
        header.append(UInt16(Self.sectionHeaderSize))
        header.append(sectionCount)
        header.append(namesIndex)
        return header.bytes
    }

    private func appendSymbol(
        _ out: inout StubByteWriter, name: UInt32, info: UInt8, other: UInt8, section: UInt16, value: UInt64,
        size: UInt64
    ) {
        out.append(name)
        out.append(info)
        out.append(other)
        out.append(section)
        out.append(value)
        out.append(size)
    }

    private func appendSection(
        _ out: inout StubByteWriter, name: UInt32, type: UInt32, flags: UInt64, offset: Int, size: Int,
        link: UInt32 = 0, info: UInt32 = 0, alignment: UInt64, entrySize: UInt64 = 0
    ) {
        out.append(name)
        out.append(type)
        out.append(flags)
        out.append(UInt64(0))  // sh_addr: relocatable objects aren't placed yet
        out.append(UInt64(offset))
        out.append(UInt64(size))
        out.append(link)
        out.append(info)
        out.append(alignment)
        out.append(entrySize)
    }
}

/// An ELF string table: NUL-terminated names after a leading NUL, addressed by byte offset.
private struct StringTable {
    private(set) var bytes: [UInt8] = [0]

    mutating func add(_ name: String) throws(StubObjectError) -> UInt32 {
        let utf8 = Array(name.utf8)
        guard !utf8.isEmpty, !utf8.contains(0) else { throw .invalidSymbolName(name) }
        guard bytes.count + utf8.count + 1 <= Int(UInt32.max) else { throw .tooLarge("string table") }
        let offset = UInt32(bytes.count)
        bytes.append(contentsOf: utf8)
        bytes.append(0)
        return offset
    }
}
