/// Writes a minimal little-endian ELF64 relocatable object: one `.text`, an empty
/// `.note.GNU-stack` (so linkers keep the stack non-executable), `.symtab`, `.strtab` and
/// `.shstrtab`. No relocations: everything the stub contains is final.
///
/// The layout follows the System V gABI: symbol 0 is null, locals come before globals and
/// `.symtab`'s `sh_info` is the index of the first global.
struct ELFRelocatableWriter {
    /// A global symbol to define.
    struct Symbol {
        var name: String
        var value: UInt64
        var size: UInt64
        var type: UInt8
        var sectionIndex: UInt16
    }

    static let textSectionIndex: UInt16 = 1
    static let absoluteSectionIndex: UInt16 = 0xfff1  // SHN_ABS
    static let typeObject: UInt8 = 1  // STT_OBJECT
    static let typeFunction: UInt8 = 2  // STT_FUNC

    private static let typeSection: UInt8 = 3  // STT_SECTION
    private static let bindLocal: UInt8 = 0
    private static let bindGlobal: UInt8 = 1
    private static let visibilityHidden: UInt8 = 2  // STV_HIDDEN
    private static let headerSize = 64
    private static let sectionHeaderSize = 64
    private static let symbolSize = 24

    var machine: UInt16
    var text: [UInt8]
    var textAlignment: UInt64
    /// Defined as GLOBAL + STV_HIDDEN: visible to the other objects of the link, never exported
    /// from the patch library (so they can't interpose on anything at load time).
    var globals: [Symbol]

    func bytes() throws(StubObjectError) -> [UInt8] {
        var strings = StringTable()
        let globalNames = try globals.map { symbol throws(StubObjectError) in try strings.add(symbol.name) }
        var sectionNames = StringTable()
        let textName = try sectionNames.add(".text")
        let noteName = try sectionNames.add(".note.GNU-stack")
        let symtabName = try sectionNames.add(".symtab")
        let strtabName = try sectionNames.add(".strtab")
        let shstrtabName = try sectionNames.add(".shstrtab")

        var out = StubByteWriter()
        out.append(bytes: [UInt8](repeating: 0, count: Self.headerSize))  // patched below

        out.pad(toMultipleOf: Int(textAlignment))
        let textOffset = out.count
        out.append(bytes: text)

        out.pad(toMultipleOf: 8)
        let symtabOffset = out.count
        // Null symbol, then the one local (the `.text` section symbol), then the globals.
        out.append(bytes: [UInt8](repeating: 0, count: Self.symbolSize))
        appendSymbol(&out, name: 0, info: Self.typeSection | (Self.bindLocal << 4), other: 0,
                     section: Self.textSectionIndex, value: 0, size: 0)
        let firstGlobal = 2
        for (symbol, name) in zip(globals, globalNames) {
            appendSymbol(&out, name: name, info: symbol.type | (Self.bindGlobal << 4), other: Self.visibilityHidden,
                         section: symbol.sectionIndex, value: symbol.value, size: symbol.size)
        }
        let symtabSize = out.count - symtabOffset

        let strtabOffset = out.count
        out.append(bytes: strings.bytes)
        let shstrtabOffset = out.count
        out.append(bytes: sectionNames.bytes)

        out.pad(toMultipleOf: 8)
        let sectionHeadersOffset = out.count
        guard sectionHeadersOffset <= Int(UInt32.max) else { throw .tooLarge("object file") }
        out.append(bytes: [UInt8](repeating: 0, count: Self.sectionHeaderSize))  // SHT_NULL
        appendSection(&out, name: textName, type: 1, flags: 0x6, offset: textOffset, size: text.count,
                      alignment: textAlignment)  // SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR
        appendSection(&out, name: noteName, type: 1, flags: 0, offset: textOffset + text.count, size: 0, alignment: 1)
        appendSection(&out, name: symtabName, type: 2, flags: 0, offset: symtabOffset, size: symtabSize,
                      link: 4, info: UInt32(firstGlobal), alignment: 8, entrySize: UInt64(Self.symbolSize))
        appendSection(&out, name: strtabName, type: 3, flags: 0, offset: strtabOffset, size: strings.bytes.count,
                      alignment: 1)
        appendSection(&out, name: shstrtabName, type: 3, flags: 0, offset: shstrtabOffset,
                      size: sectionNames.bytes.count, alignment: 1)

        var bytes = out.bytes
        let header = fileHeader(sectionHeadersOffset: UInt64(sectionHeadersOffset), sectionCount: 6, namesIndex: 5)
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
