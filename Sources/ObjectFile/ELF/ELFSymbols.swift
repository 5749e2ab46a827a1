extension ELFFile {
    /// Which symbol table to read.
    public enum SymbolTableKind: Sendable, Hashable {
        /// `.symtab` (`SHT_SYMTAB`): every symbol, including locals; stripped binaries lack it.
        case symtab
        /// `.dynsym` (`SHT_DYNSYM`): the exported and imported symbols only.
        case dynsym
    }

    /// The section of the preferred symbol table: `.symtab`, else `.dynsym`, else `nil`.
    public var symbolTableSection: Section? {
        symbolTableSection(.symtab) ?? symbolTableSection(.dynsym)
    }

    /// The first section of the given symbol table type.
    public func symbolTableSection(_ kind: SymbolTableKind) -> Section? {
        let type = kind == .symtab ? ELF.SectionType.symtab : ELF.SectionType.dynsym
        return sections.first { $0.type == type }
    }

    /// Calls `body` for every symbol of `table` (default: the preferred table), skipping the null
    /// symbol at index 0. No allocation per symbol: `RawSymbol.name` points into the mapped file
    /// and is valid only during the call.
    ///
    /// - Throws: ``ObjectFileError`` for a table or name that does not fit the file, or what `body` throws.
    public func forEachSymbol(in table: Section? = nil, _ body: (RawSymbol) throws -> Void) throws {
        guard let table = table ?? symbolTableSection else { return }
        let reader = try SymbolReader(file: self, table: table)
        try withExtendedLifetime(file) {
            try reader.forEach(body)
        }
    }

    /// Number of entries in `table` (including the null symbol at index 0), counting only
    /// entries that lie inside the file: a safe bound for reserving capacity.
    public func symbolCount(in table: Section) -> Int {
        let stride = max(UInt64(layout.symbolSize), table.entrySize)
        let available = table.offset < UInt64(file.count) ? UInt64(file.count) - table.offset : 0
        return Int(min(table.size, available) / stride)
    }

    /// The symbol at `index` of `table` (default: the preferred table), e.g. a relocation's
    /// ``ELFRelocation/symbolIndex``. Index 0 is the null symbol (empty name, undefined).
    public func symbol(at index: Int, in table: Section? = nil) throws(ObjectFileError) -> ObjectSymbol {
        guard let table = table ?? symbolTableSection else {
            throw view.error(.malformed, "symbol \(index) requested from a file without a symbol table", at: nil)
        }
        let reader = try SymbolReader(file: self, table: table)
        guard index >= 0, index < reader.count else {
            throw view.error(.malformed, "symbol index out of range", at: table.offset,
                             expected: "an index below \(reader.count)", found: "found \(index)")
        }
        return try withExtendedLifetime(file) { () throws(ObjectFileError) -> ObjectSymbol in
            ObjectSymbol(try reader.decode(index))
        }
    }

    /// The symbols of `table` (default: the preferred table) with `String` names.
    public func symbols(in table: Section? = nil) throws -> [ObjectSymbol] {
        var result: [ObjectSymbol] = []
        if let table = table ?? symbolTableSection { result.reserveCapacity(symbolCount(in: table)) }
        try forEachSymbol(in: table) { result.append(ObjectSymbol($0)) }
        return result
    }
}

/// Validates one symbol table's ranges up front, then decodes entries without further checks.
private struct SymbolReader {
    let view: ByteView
    let is64: Bool
    let start: Int
    let stride: Int
    let count: Int
    let strings: StringTable
    /// `SHT_SYMTAB_SHNDX` contents (start offset in `view`, entry count) for `SHN_XINDEX` symbols.
    let extendedIndices: (start: Int, count: Int)?
    let sectionCount: Int

    init(file: ELFFile, table: ELFFile.Section) throws(ObjectFileError) {
        let view = file.view
        let layout = file.layout
        let what = "symbol table \(table.name.isEmpty ? "#\(table.index)" : table.name)"
        guard table.type == ELF.SectionType.symtab || table.type == ELF.SectionType.dynsym else {
            throw view.error(.malformed, "\(what) is not a symbol table", at: nil,
                             expected: "SHT_SYMTAB or SHT_DYNSYM", found: "found type \(table.type)")
        }
        guard table.entrySize == 0 || table.entrySize >= UInt64(layout.symbolSize) else {
            throw view.error(.malformed, "bad entry size of \(what)", at: table.offset,
                             expected: "\(layout.symbolSize) bytes", found: "found \(table.entrySize)")
        }
        stride = max(layout.symbolSize, Int(clamping: table.entrySize))
        count = Int(table.size / UInt64(stride))
        start = try view.table(table.offset, count: UInt64(count), entrySize: UInt64(stride), what)
        guard Int(table.link) < file.sections.count, table.link != 0 else {
            throw view.error(.malformed, "string table link (sh_link) of \(what) out of range", at: table.offset,
                             expected: "a section index below \(file.sections.count)", found: "found \(table.link)")
        }
        let names = file.sections[Int(table.link)]
        strings = try StringTable(view: view, offset: names.offset, size: names.size, what: "string table \(names.name)")
        if let shndx = file.sections.first(where: { $0.type == ELF.SectionType.symtabShndx && Int($0.link) == table.index }) {
            let entries = shndx.size / 4
            extendedIndices = (
                try view.table(shndx.offset, count: entries, entrySize: 4, "extended section index table"),
                Int(entries))
        } else {
            extendedIndices = nil
        }
        self.view = view
        is64 = layout.is64
        sectionCount = file.sections.count
    }

    func forEach(_ body: (RawSymbol) throws -> Void) throws {
        guard count > 1 else { return }
        for index in 1..<count {
            try body(decode(index))
        }
    }

    /// Decodes entry `index` (< `count`).
    @inline(__always)
    func decode(_ index: Int) throws(ObjectFileError) -> RawSymbol {
        let s = start + index * stride
        let nameOffset = view.u32(at: s)
        let info: UInt8, other: UInt8, shndx: UInt16, value: UInt64, size: UInt64
        if is64 {
            info = view.u8(at: s + 4)
            other = view.u8(at: s + 5)
            shndx = view.u16(at: s + 6)
            value = view.u64(at: s + 8)
            size = view.u64(at: s + 16)
        } else {
            value = UInt64(view.u32(at: s + 4))
            size = UInt64(view.u32(at: s + 8))
            info = view.u8(at: s + 12)
            other = view.u8(at: s + 13)
            shndx = view.u16(at: s + 14)
        }
        guard let name = strings.bytes(at: nameOffset) else {
            throw strings.invalidName(nameOffset, for: "symbol \(index)", entryOffset: s)
        }
        var flags: ObjectSymbolFlags = []
        var sectionIndex: Int?
        var kind = Self.kind(info & 0xf)
        switch shndx {
        case ELF.SectionIndex.undefined:
            flags.insert(.undefined)
        case ELF.SectionIndex.absolute:
            flags.insert(.absolute)
        case ELF.SectionIndex.common:
            flags.insert(.common)
            kind = .common
        case ELF.SectionIndex.xindex:
            if let extended = extendedIndices, index < extended.count {
                let real = Int(view.u32(at: extended.start + index * 4))
                sectionIndex = real < sectionCount ? real : nil
            }
        default:
            if shndx < ELF.SectionIndex.loReserve, Int(shndx) < sectionCount { sectionIndex = Int(shndx) }
        }
        if kind == .common { flags.insert(.common) }
        switch other & ELF.SymbolVisibility.mask {
        case ELF.SymbolVisibility.hidden, ELF.SymbolVisibility.internal: flags.insert(.hidden)
        case ELF.SymbolVisibility.protected: flags.insert(.protected)
        default: break
        }
        return RawSymbol(
            index: index, name: name, value: value, size: size, kind: kind,
            binding: Self.binding(info >> 4), sectionIndex: sectionIndex, flags: flags)
    }

    @inline(__always)
    static func kind(_ type: UInt8) -> ObjectSymbolKind {
        switch type {
        case ELF.SymbolType.notype: .notype
        case ELF.SymbolType.object: .object
        case ELF.SymbolType.function: .function
        case ELF.SymbolType.section: .section
        case ELF.SymbolType.file: .file
        case ELF.SymbolType.common: .common
        case ELF.SymbolType.tls: .tls
        case ELF.SymbolType.gnuIfunc: .ifunc
        default: .other
        }
    }

    @inline(__always)
    static func binding(_ bind: UInt8) -> ObjectSymbolBinding {
        switch bind {
        case ELF.SymbolBinding.local: .local
        case ELF.SymbolBinding.weak: .weak
        default: .global  // STB_GLOBAL, STB_GNU_UNIQUE, OS/processor-specific
        }
    }
}
