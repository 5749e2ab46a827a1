import ObjectFile

/// A relocatable x86_64 or aarch64 ELF object (64-bit, little-endian) read for rewriting: its bytes (in an ``ELFFileEditor``, not yet
/// edited), section headers, symbols and relocations, each relocation with the file offset of its
/// entry so an edit can be written in place. Every table was bounds-checked by `ObjectFile` when
/// it was read.
struct RelocatableImage {
    /// One `SHT_RELA` section and the section it patches.
    struct RelocationTable {
        let section: ELFFile.Section
        let target: ELFFile.Section
        let entries: [ELFRelocation]
        let stride: Int

        /// Where entry `index` starts in the file.
        func fileOffset(ofEntry index: Int) -> Int { Int(clamping: section.offset) &+ index &* stride }
    }

    let path: String
    /// `e_machine`: ``ELF/Machine/x86_64`` or ``ELF/Machine/aarch64``.
    let machine: UInt16
    /// The object's bytes, for a rewrite to copy and edit.
    let file: ELFFileEditor
    let sections: [ELFFile.Section]
    let symbolTable: ELFFile.Section
    /// `symbols[i]` is symbol `i` of `.symtab`; index 0 (the null symbol) is nil.
    let symbols: [ObjectSymbol?]
    let relocationTables: [RelocationTable]
    /// Defined, named (non-section, non-file, non-mapping) symbols per section index, sorted by value.
    let definitions: [Int: [ObjectSymbol]]

    /// The instruction sets the relocate stage rewrites.
    static let machines: Set<UInt16> = [ELF.Machine.x86_64, ELF.Machine.aarch64]

    init(path: String, bytes: [UInt8]) throws(RelocateError) {
        self.path = path
        let elf: ELFFile
        do {
            elf = try ELFFile(file: MappedFile(bytes: bytes, name: path))
        } catch {
            throw .unsupportedObject(path: path, found: "unreadable as ELF (\(error.description))")
        }
        guard elf.is64, !elf.isBigEndian, Self.machines.contains(elf.machine), elf.fileType == .relocatable else {
            throw .unsupportedObject(
                path: path, found: "an ELF \(elf.fileType.rawValue) for \(elf.architecture)\(elf.isBigEndian ? " (big-endian)" : "")")
        }
        machine = elf.machine
        guard let symtab = elf.symbolTableSection(.symtab) else {
            throw .malformedObject(path: path, reason: "it has no .symtab")
        }
        let layout = elf.layout
        guard symtab.entrySize == UInt64(layout.symbolSize), symtab.size % UInt64(layout.symbolSize) == 0 else {
            throw .malformedObject(path: path, reason: ".symtab is not a whole number of \(layout.symbolSize)-byte entries (entry size \(symtab.entrySize), size \(symtab.size))")
        }
        sections = elf.sections
        symbolTable = symtab
        let headerOffset = Int(clamping: elf.sectionHeaderTableOffset)
        guard headerOffset > 0, Int(elf.sectionHeaderEntrySize) == layout.sectionHeaderSize,
              headerOffset <= bytes.count, sections.count * layout.sectionHeaderSize <= bytes.count - headerOffset
        else {
            throw .malformedObject(path: path, reason: "the section header table lies outside the file")
        }
        do {
            file = try ELFFileEditor(bytes: bytes, headersOf: elf)
        } catch {
            throw .malformedObject(path: path, reason: error.what)
        }

        do {
            let list = try elf.symbols(in: symtab)
            var byIndex = [ObjectSymbol?](repeating: nil, count: (list.map(\.index).max() ?? 0) + 1)
            var named: [Int: [ObjectSymbol]] = [:]
            for symbol in list {
                byIndex[symbol.index] = symbol
                guard symbol.isDefined, let section = symbol.sectionIndex, symbol.kind != .section,
                      symbol.kind != .file, !symbol.name.isEmpty, !Self.isMappingSymbol(symbol.name, machine: elf.machine)
                else { continue }
                named[section, default: []].append(symbol)
            }
            symbols = byIndex
            definitions = named.mapValues { $0.sorted { ($0.value, $0.index) < ($1.value, $1.index) } }

            var tables: [RelocationTable] = []
            for table in elf.relocationSections {
                // Debug sections' relocations (most of them) are resolved by the static link alone.
                guard table.hasAddends, table.symbolTableIndex == symtab.index,
                      table.targetSectionIndex > 0, table.targetSectionIndex < sections.count,
                      sections[table.targetSectionIndex].flags & ELF.SectionFlags.alloc != 0
                else { continue }
                tables.append(RelocationTable(
                    section: table.section, target: sections[table.targetSectionIndex],
                    entries: try elf.relocations(in: table), stride: elf.entryStride(of: table)))
            }
            relocationTables = tables
        } catch {
            throw .malformedObject(path: path, reason: "\(error)")
        }

        // The rewrite edits these sections' bytes in place. One placed over the ELF header or the
        // section header table (only a damaged object does that; found by scripts/fuzz.sh) would
        // have its instruction and relocation edits rewrite those headers instead.
        let headers = [(0, layout.headerSize, "the ELF header"),
                       (headerOffset, sections.count * layout.sectionHeaderSize, "the section header table")]
        for section in [symtab] + relocationTables.flatMap({ [$0.section, $0.target] }) where section.hasFileBytes {
            let start = Int(clamping: section.offset)
            let end = start.addingReportingOverflow(Int(clamping: section.size))
            for (headerStart, headerSize, name) in headers
            where start < headerStart + headerSize && (end.overflow || end.partialValue > headerStart) {
                throw .malformedObject(path: path, reason: "section \(section.name) overlaps \(name)")
            }
        }
    }

    /// Whether `name` is an AAELF64 mapping symbol (`$x`, `$d`, optionally `.<suffix>`): a marker
    /// of where code or data starts, never the thing a relocation means (and the executable has
    /// its own `$d.N`, unrelated ones of the same name).
    static func isMappingSymbol(_ name: String, machine: UInt16) -> Bool {
        guard machine == ELF.Machine.aarch64 else { return false }
        return name == "$x" || name == "$d" || name.hasPrefix("$x.") || name.hasPrefix("$d.")
    }

    /// The symbol a relocation against `symbolIndex` + `addend` really points into: a named
    /// symbol given directly, or for a section symbol the named symbol of that section covering
    /// the offset (one past its end counts when no symbol starts there: an end pointer).
    /// Returns the symbol and the offset inside it.
    func target(symbolIndex: UInt32, addend: Int64) -> (symbol: ObjectSymbol, offset: Int64)? {
        guard Int(symbolIndex) < symbols.count, let symbol = symbols[Int(symbolIndex)], symbol.isDefined,
              let section = symbol.sectionIndex
        else { return nil }
        guard symbol.kind == .section else { return (symbol, addend) }
        let (offset, overflow) = Int64(bitPattern: symbol.value).addingReportingOverflow(addend)
        guard !overflow, offset >= 0, let candidates = definitions[section] else { return nil }
        let position = UInt64(offset)
        var endsHere: ObjectSymbol?
        // Sorted by value: the covering symbol is at or before the last one starting at or below.
        var upper = candidates.count
        var lower = 0
        while lower < upper {
            let middle = (lower + upper) / 2
            if candidates[middle].value <= position { lower = middle + 1 } else { upper = middle }
        }
        for candidate in candidates[..<lower].reversed() {
            let end = candidate.value &+ candidate.size
            if position < end || (candidate.size == 0 && position == candidate.value) {
                return (candidate, Int64(position - candidate.value))
            }
            if position == end, endsHere == nil { endsHere = candidate }
        }
        if let endsHere, !candidates[lower...].contains(where: { $0.value == position }) {
            return (endsHere, Int64(position - endsHere.value))
        }
        return nil
    }

    /// The section a defined symbol lives in.
    func section(of symbol: ObjectSymbol) -> ELFFile.Section? {
        symbol.sectionIndex.flatMap { $0 < sections.count ? sections[$0] : nil }
    }

    /// A copy of a section's file bytes (empty for `SHT_NOBITS`).
    func contents(of section: ELFFile.Section) throws(EHFramePointers.Malformed) -> [UInt8] {
        do {
            return try file.contents(of: section)
        } catch {
            throw EHFramePointers.Malformed(reason: error.what)
        }
    }
}
