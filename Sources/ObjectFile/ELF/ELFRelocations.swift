/// One ELF relocation entry (`Elf*_Rel` or `Elf*_Rela`), decoded.
public struct ELFRelocation: Sendable, Hashable {
    /// `r_offset`: section offset (relocatable objects) or virtual address (images).
    public var offset: UInt64
    /// The relocation type (`R_X86_64_64`, `R_AARCH64_CALL26`, …): low 32 bits (64-bit ELF) or low
    /// 8 bits (32-bit ELF) of `r_info`.
    public var type: UInt32
    /// Index into the symbol table named by the relocation section's `sh_link` (0: no symbol).
    public var symbolIndex: UInt32
    /// `r_addend` for `SHT_RELA`; 0 for `SHT_REL`, whose addend is stored in the patched bytes.
    public var addend: Int64
}

extension ELFFile {
    /// A relocation section and what it applies to.
    public struct RelocationSection: Sendable, Hashable {
        /// The `SHT_RELA` / `SHT_REL` section itself.
        public var section: Section
        /// Whether entries carry an explicit addend (`SHT_RELA`).
        public var hasAddends: Bool
        /// Index of the section the relocations patch (`sh_info`); 0 for dynamic relocations.
        public var targetSectionIndex: Int
        /// Index of the symbol table the entries refer to (`sh_link`).
        public var symbolTableIndex: Int
    }

    /// Every `SHT_RELA` and `SHT_REL` section, in section order.
    public var relocationSections: [RelocationSection] {
        sections.compactMap { section in
            guard section.type == ELF.SectionType.rela || section.type == ELF.SectionType.rel else { return nil }
            return RelocationSection(
                section: section, hasAddends: section.type == ELF.SectionType.rela,
                targetSectionIndex: Int(section.info), symbolTableIndex: Int(section.link))
        }
    }

    /// The relocation sections that patch section `index` (e.g. `.rela.text` for `.text`).
    public func relocationSections(forSection index: Int) -> [RelocationSection] {
        relocationSections.filter { $0.targetSectionIndex == index }
    }

    /// Bytes from one entry of `relocations` to the next: the structure's size, or the larger
    /// `sh_entsize` a producer declared.
    public func entryStride(of relocations: RelocationSection) -> Int {
        max(relocations.hasAddends ? layout.relaSize : layout.relSize, Int(clamping: relocations.section.entrySize))
    }

    /// Where entry `index` of `relocations` starts in the file (for ``ELFFileEditor``); entries
    /// lie inside the file when ``relocations(in:)`` could read them.
    public func fileOffset(ofEntry index: Int, in relocations: RelocationSection) -> Int {
        Int(clamping: relocations.section.offset) &+ index &* entryStride(of: relocations)
    }

    /// Decodes every entry of `relocations`.
    ///
    /// Note: 64-bit little-endian MIPS packs `r_info` differently; this reader uses the generic layout.
    public func relocations(in relocations: RelocationSection) throws(ObjectFileError) -> [ELFRelocation] {
        let view = self.view
        let entrySize = relocations.hasAddends ? layout.relaSize : layout.relSize
        let section = relocations.section
        guard section.entrySize == 0 || section.entrySize >= UInt64(entrySize) else {
            throw view.error(.malformed, "bad entry size of relocation section \(section.name)", at: section.offset,
                             expected: "\(entrySize) bytes", found: "found \(section.entrySize)")
        }
        let stride = entryStride(of: relocations)
        let count = Int(section.size / UInt64(stride))
        let start = try view.table(
            section.offset, count: UInt64(count), entrySize: UInt64(stride), "relocation section \(section.name)")
        var result: [ELFRelocation] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            let r = start + index * stride
            if is64 {
                let info = view.u64(at: r + 8)
                result.append(ELFRelocation(
                    offset: view.u64(at: r), type: UInt32(truncatingIfNeeded: info), symbolIndex: UInt32(info >> 32),
                    addend: relocations.hasAddends ? Int64(bitPattern: view.u64(at: r + 16)) : 0))
            } else {
                let info = view.u32(at: r + 4)
                result.append(ELFRelocation(
                    offset: UInt64(view.u32(at: r)), type: info & 0xff, symbolIndex: info >> 8,
                    addend: relocations.hasAddends ? Int64(Int32(bitPattern: view.u32(at: r + 8))) : 0))
            }
        }
        return result
    }
}
