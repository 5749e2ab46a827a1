/// Writes a minimal little-endian ELF64 relocatable object (`ET_REL`), no assembler needed: the
/// given content sections, a `.rela` section for each that has relocations, an empty
/// `.note.GNU-stack` (so linkers keep the stack non-executable), `.symtab`, `.strtab` and
/// `.shstrtab`.
///
/// The layout follows the System V gABI: section 0 and symbol 0 are null, the content sections
/// are numbered from ``firstContentSectionIndex`` in the order given, locals (one section symbol
/// per content section) come before the globals and `.symtab`'s `sh_info` is the index of the
/// first global.
public struct ELFRelocatableWriter: Sendable {
    /// One `SHT_PROGBITS` section.
    public struct Section: Sendable, Hashable {
        public var name: String
        /// `sh_flags`, e.g. `ELF.SectionFlags.alloc | ELF.SectionFlags.execinstr` for code.
        public var flags: UInt64
        /// `sh_addralign`: a power of two (0 and 1: none).
        public var alignment: UInt64
        public var bytes: [UInt8]
        /// Written to `.rela<name>`.
        public var relocations: [Relocation]

        public init(name: String, flags: UInt64, alignment: UInt64, bytes: [UInt8], relocations: [Relocation] = []) {
            self.name = name
            self.flags = flags
            self.alignment = alignment
            self.bytes = bytes
            self.relocations = relocations
        }
    }

    /// An `Elf64_Rela` against one of the ``globals``, by name.
    public struct Relocation: Sendable, Hashable {
        /// `r_offset`: where in its section the relocation patches.
        public var offset: UInt64
        /// The name of the global it refers to.
        public var symbol: String
        /// A relocation type of ``machine`` (``ELF/X86_64Relocation``, ``ELF/AArch64Relocation``).
        public var type: UInt32
        public var addend: Int64

        public init(offset: UInt64, symbol: String, type: UInt32, addend: Int64) {
            self.offset = offset
            self.symbol = symbol
            self.type = type
            self.addend = addend
        }
    }

    /// A global symbol: defined in a content section or at an absolute value
    /// (``ELF/SectionIndex/absolute``), or undefined (``ELF/SectionIndex/undefined``).
    public struct Symbol: Sendable, Hashable {
        public var name: String
        public var value: UInt64
        public var size: UInt64
        /// One of ``ELF/SymbolType``.
        public var type: UInt8
        /// A content section's index (from ``firstContentSectionIndex``) or a reserved index.
        public var sectionIndex: UInt16
        /// `STV_HIDDEN` (else `STV_DEFAULT`): visible to the other objects of the link, never
        /// exported from what it links into, so it can't interpose on anything at load time.
        public var hidden: Bool

        public init(name: String, value: UInt64, size: UInt64, type: UInt8, sectionIndex: UInt16, hidden: Bool = true) {
            self.name = name
            self.value = value
            self.size = size
            self.type = type
            self.sectionIndex = sectionIndex
            self.hidden = hidden
        }
    }

    /// The section index of the first content section; the others follow in order.
    public static let firstContentSectionIndex: UInt16 = 1
    /// The largest section alignment written: larger ones would pad the file by that much.
    public static let maximumAlignment: UInt64 = 1 << 16

    private static let layout = ELF.Layout.elf64

    /// `e_machine`, one of ``ELF/Machine``.
    public var machine: UInt16
    public var sections: [Section]
    public var globals: [Symbol]

    public init(machine: UInt16, sections: [Section], globals: [Symbol]) {
        self.machine = machine
        self.sections = sections
        self.globals = globals
    }

    /// The object file's bytes.
    public func bytes() throws(ELFWriteError) -> [UInt8] {
        let layout = Self.layout
        var strings = StringTableBuilder()
        let globalNames = try globals.map { symbol throws(ELFWriteError) in try strings.add(symbol.name) }
        let firstGlobal = 1 + sections.count
        var symbolIndex: [String: UInt32] = [:]
        for (position, symbol) in globals.enumerated() { symbolIndex[symbol.name] = UInt32(firstGlobal + position) }

        var out = ByteWriter()
        out.append(bytes: [UInt8](repeating: 0, count: layout.headerSize))  // patched below
        var contentOffsets: [Int] = []
        for section in sections {
            guard section.alignment <= Self.maximumAlignment, section.alignment & (section.alignment &- 1) == 0 else {
                throw .invalidAlignment(section: section.name, alignment: section.alignment)
            }
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
            out.pad(toMultipleOf: layout.wordSize)
            relaOffsets.append(out.count)
            for relocation in section.relocations {
                guard let symbol = symbolIndex[relocation.symbol] else { throw .unknownRelocationSymbol(relocation.symbol) }
                out.append(relocation.offset)
                out.append(layout.relocationInfo(symbolIndex: symbol, type: relocation.type))
                out.append(relocation.addend)
            }
        }

        out.pad(toMultipleOf: layout.wordSize)
        let symtabOffset = out.count
        // Null symbol, then one section symbol per content section, then the globals.
        out.append(bytes: [UInt8](repeating: 0, count: layout.symbolSize))
        for index in sections.indices {
            ELFSymbolEntry(
                nameOffset: 0, binding: ELF.SymbolBinding.local, type: ELF.SymbolType.section,
                sectionIndex: Self.firstContentSectionIndex + UInt16(index)
            ).append(to: &out, layout: layout)
        }
        for (symbol, name) in zip(globals, globalNames) {
            ELFSymbolEntry(
                nameOffset: name, binding: ELF.SymbolBinding.global, type: symbol.type,
                visibility: symbol.hidden ? ELF.SymbolVisibility.hidden : ELF.SymbolVisibility.default,
                sectionIndex: symbol.sectionIndex, value: symbol.value, size: symbol.size
            ).append(to: &out, layout: layout)
        }
        let symtabSize = out.count - symtabOffset

        var sectionNames = StringTableBuilder()
        let contentNames = try sections.map { section throws(ELFWriteError) in try sectionNames.add(section.name) }
        let relaNames = try sections.map { section throws(ELFWriteError) in
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

        out.pad(toMultipleOf: layout.wordSize)
        let sectionHeadersOffset = out.count
        guard sectionHeadersOffset <= Int(UInt32.max) else { throw .tooLarge("object file") }
        let relaCount = relaNames.compactMap { $0 }.count
        // Content sections, their .rela sections, .note.GNU-stack, then the three tables.
        let symtabIndex = UInt32(sections.count + relaCount + 2)
        out.append(bytes: [UInt8](repeating: 0, count: layout.sectionHeaderSize))  // SHT_NULL
        for (index, section) in sections.enumerated() {
            appendSection(&out, name: contentNames[index], type: ELF.SectionType.progbits, flags: section.flags,
                          offset: contentOffsets[index], size: section.bytes.count, alignment: section.alignment)
        }
        for (index, section) in sections.enumerated() {
            guard let name = relaNames[index], let offset = relaOffsets[index] else { continue }
            appendSection(&out, name: name, type: ELF.SectionType.rela, flags: ELF.SectionFlags.infoLink, offset: offset,
                          size: section.relocations.count * layout.relaSize, link: symtabIndex,
                          info: UInt32(Self.firstContentSectionIndex) + UInt32(index),
                          alignment: UInt64(layout.wordSize), entrySize: UInt64(layout.relaSize))
        }
        let noteOffset = (contentOffsets.last ?? layout.headerSize) + (sections.last?.bytes.count ?? 0)
        appendSection(&out, name: noteName, type: ELF.SectionType.progbits, flags: 0, offset: noteOffset, size: 0, alignment: 1)
        appendSection(&out, name: symtabName, type: ELF.SectionType.symtab, flags: 0, offset: symtabOffset, size: symtabSize,
                      link: symtabIndex + 1, info: UInt32(firstGlobal), alignment: UInt64(layout.wordSize),
                      entrySize: UInt64(layout.symbolSize))
        appendSection(&out, name: strtabName, type: ELF.SectionType.strtab, flags: 0, offset: strtabOffset,
                      size: strings.bytes.count, alignment: 1)
        appendSection(&out, name: shstrtabName, type: ELF.SectionType.strtab, flags: 0, offset: shstrtabOffset,
                      size: sectionNames.bytes.count, alignment: 1)

        var bytes = out.bytes
        let header = fileHeader(
            sectionHeadersOffset: UInt64(sectionHeadersOffset), sectionCount: UInt16(symtabIndex + 3),
            namesIndex: UInt16(symtabIndex + 2))
        bytes.replaceSubrange(0..<layout.headerSize, with: header)
        return bytes
    }

    private func fileHeader(sectionHeadersOffset: UInt64, sectionCount: UInt16, namesIndex: UInt16) -> [UInt8] {
        let layout = Self.layout
        var header = ByteWriter()
        header.append(bytes: ELF.Identification.magic)
        header.append(ELF.Identification.class64)
        header.append(ELF.Identification.dataLittleEndian)
        header.append(ELF.Identification.currentVersion)
        header.append(ELF.Identification.osABINone)
        header.pad(toMultipleOf: ELF.Identification.size)  // EI_ABIVERSION and padding
        header.append(ELF.FileType.relocatable)
        header.append(machine)
        header.append(UInt32(ELF.Identification.currentVersion))  // e_version
        header.append(UInt64(0))  // e_entry
        header.append(UInt64(0))  // e_phoff: no program headers in a relocatable object
        header.append(sectionHeadersOffset)
        header.append(UInt32(0))  // e_flags
        header.append(UInt16(layout.headerSize))
        header.append(UInt16(0))  // e_phentsize
        header.append(UInt16(0))  // e_phnum
        header.append(UInt16(layout.sectionHeaderSize))
        header.append(sectionCount)
        header.append(namesIndex)
        return header.bytes
    }

    private func appendSection(
        _ out: inout ByteWriter, name: UInt32, type: UInt32, flags: UInt64, offset: Int, size: Int,
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
