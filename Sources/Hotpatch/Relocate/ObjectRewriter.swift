import ObjectFile

/// What every architecture's slide-independent rewrite shares: the object's bytes being edited,
/// the symbols it appends (undefined references to `main`, slots and trampolines; exported aliases
/// of new statics), the rename of the object's own `main`, the decision which storage a reference
/// to a writable static uses, the `.eh_frame` pointer rewrite, and the final symbol and string
/// tables. ``SlideIndependentObject`` (x86_64) and ``AArch64SlideIndependentObject`` hold one and
/// decide only what their relocation types and instructions become.
struct ObjectRewriter {
    /// Where a reference to a writable static the object defines goes.
    enum Storage {
        /// The executable's copy at `main + delta` (the offset inside the static included).
        case executable(delta: Int64)
        /// The storage an earlier patch's library exports under `alias` (+ the offset).
        case earlierPatch(alias: String, offset: Int64)
        /// The object's own copy: a new static, or one whose type changed.
        case own
    }

    let image: RelocatableImage
    let executable: ExecutableStatics
    let anchorAddress: UInt64
    /// Global names some object of the link defines: the patch's own, never the executable's.
    let definedInPatch: Set<String>
    let earlierStatics: SlideIndependentObject.EarlierStatics
    /// The object's bytes being edited.
    private(set) var out: ELFFileEditor
    private var strings: [UInt8]
    /// Symbols appended to `.symtab`: undefined references, and (with a section) exported aliases.
    private var addedSymbols: [(name: String, index: UInt32, definition: (section: UInt16, value: UInt64, size: UInt64)?)] = []
    private var exportedAliases = Set<String>()
    private var symbolIndices: [String: UInt32] = [:]
    private let symbolCount: Int

    init(
        image: RelocatableImage, executable: ExecutableStatics, anchorAddress: UInt64, definedInPatch: Set<String>,
        earlierStatics: SlideIndependentObject.EarlierStatics
    ) throws(RelocateError) {
        self.image = image
        self.definedInPatch = definedInPatch
        self.earlierStatics = earlierStatics
        self.executable = executable
        self.anchorAddress = anchorAddress
        out = image.file
        let stringSection = Int(image.symbolTable.link)
        guard stringSection > 0, stringSection < image.sections.count else {
            throw .malformedObject(path: image.path, reason: ".symtab links to section \(stringSection), which doesn't exist")
        }
        // The rewrite moves this table, with the names it adds, to the end of the file: one with no
        // bytes in the file (a damaged type; found by scripts/fuzz.sh) would be moved empty.
        guard image.sections[stringSection].type == ELF.SectionType.strtab else {
            throw .malformedObject(path: image.path, reason: ".symtab's string table (section \(stringSection)) is not an SHT_STRTAB section")
        }
        do {
            strings = try image.file.contents(of: image.sections[stringSection])
        } catch {
            throw .malformedObject(path: image.path, reason: error.what)
        }
        symbolCount = Int(image.symbolTable.size) / image.file.layout.symbolSize
    }

    // MARK: - Classification

    /// The symbol at `symbolIndex` of the object, nil for the null symbol or an index past the table.
    func symbol(at symbolIndex: UInt32) -> ObjectSymbol? {
        Int(symbolIndex) < image.symbols.count ? image.symbols[Int(symbolIndex)] : nil
    }

    /// Whether `symbol` (in `section`) is a thread-local.
    static func isThreadLocal(_ symbol: ObjectSymbol, in section: ELFFile.Section) -> Bool {
        section.flags & ELF.SectionFlags.tls != 0 || symbol.kind == .tls
    }

    /// Whether `symbol` (in `section`) is writable storage the executable may have a copy of:
    /// never RELRO (vtables and constant tables must be the patch's: they may have changed).
    static func isMutableStorage(_ symbol: ObjectSymbol, in section: ELFFile.Section) -> Bool {
        !isThreadLocal(symbol, in: section) && section.flags & ELF.SectionFlags.write != 0
            && section.flags & ELF.SectionFlags.alloc != 0 && !section.name.contains(".rel.ro")
            && symbol.kind != .function
    }

    /// Which copy of the writable static `symbol` (+ `offset`) a reference uses, recorded in
    /// `summary`: the executable's when it has one of the same size, an earlier patch's when one
    /// added it, else the object's own (a new static gets an exported alias for later patches).
    mutating func storage(
        of symbol: ObjectSymbol, offset: Int64, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) -> Storage {
        switch executable.data(named: symbol.name) {
        case .found(let address, let size):
            if size != 0, symbol.size != 0, size != symbol.size {
                summary.changed.append(symbol.name)
                return .own
            }
            summary.statics.append(symbol.name)
            summary.references += 1
            return .executable(delta: delta(to: address) &+ offset)
        case .absent where earlierStatics.names.contains(symbol.name):
            // Added by an earlier patch: its library exports the storage; the link names it
            // as a needed library and the loader binds the alias.
            summary.earlierPatchStatics.append(symbol.name)
            summary.references += 1
            return .earlierPatch(alias: SlideIndependentObject.newStaticPrefix + symbol.name, offset: offset)
        case .absent:
            summary.newStatics.append(symbol.name)
            try exportAlias(of: symbol)
            return .own
        case .incompatible:
            summary.changed.append(symbol.name)
            return .own
        }
    }

    /// Points the absolute 64-bit relocation at `entryOffset` (of type `absolute`) at `storage`:
    /// `main` + delta for the executable's copy, the alias + offset for an earlier patch's; the
    /// object's own copy keeps the relocation as it is.
    mutating func redirect(absolute entryOffset: Int, type absolute: UInt32, to storage: Storage) throws(RelocateError) {
        switch storage {
        case .executable(let delta):
            try writeRelocation(at: entryOffset, symbol: anchorIndex(), type: absolute, addend: delta)
        case .earlierPatch(let alias, let offset):
            try writeRelocation(at: entryOffset, symbol: index(ofUndefined: alias), type: absolute, addend: offset)
        case .own:
            return
        }
    }

    /// Refuses a reference of `type` to the object's own `symbol` that would silently reach a
    /// fresh copy instead of the executable's: a PC-relative or narrow access (`cannotReach`) to
    /// a writable static the executable has, or a thread-local reached through a model other than
    /// local-exec (`otherThreadLocalModels`; a new thread-local when the executable lacks it).
    func refuseUnreachable(
        _ symbol: ObjectSymbol, type: UInt32, in section: ELFFile.Section,
        cannotReach: Set<UInt32>, otherThreadLocalModels: Set<UInt32>
    ) throws(RelocateError) {
        if cannotReach.contains(type), Self.isMutableStorage(symbol, in: section) {
            if case .found = executable.data(named: symbol.name) {
                throw .unreachableStatic(name: symbol.name, relocationType: type, path: image.path)
            }
        } else if otherThreadLocalModels.contains(type), Self.isThreadLocal(symbol, in: section) {
            if case .found = executable.threadLocal(named: symbol.name) {
                throw .unreachableStatic(name: symbol.name, relocationType: type, path: image.path)
            }
            throw .newThreadLocal(name: symbol.name, path: image.path)
        }
    }

    /// What the executable defines under an undefined `name` the patch itself doesn't define
    /// (nil for `main` itself, the patch's own names, libc and the loader).
    func executableDefinition(named name: String) -> SymbolInfo? {
        guard name != FixupObject.anchorSymbol, !definedInPatch.contains(name) else { return nil }
        return executable.definition(named: name)
    }

    func delta(to fileAddress: UInt64) -> Int64 { Int64(bitPattern: fileAddress &- anchorAddress) }

    // MARK: - .eh_frame

    /// `.eh_frame`: absolute personality and LSDA pointers become pc-relative (see
    /// ``EHFramePointers``); `absolute` and `pcRelative` are the architecture's `ABS64` and `PC64`.
    mutating func rewriteUnwindPointers(
        _ table: RelocatableImage.RelocationTable, absolute: UInt32, pcRelative: UInt32,
        fixups: inout FixupTable, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) {
        let pointers: EHFramePointers
        do {
            pointers = try EHFramePointers(section: image.contents(of: table.target))
        } catch {
            throw .malformedObject(path: image.path, reason: error.reason)
        }
        let sectionStart = Int(clamping: table.target.offset)
        for encoding in pointers.lsdaEncodingBytes { try write(EHFramePointers.pcRelative64, at: sectionStart + encoding) }
        for (position, entry) in table.entries.enumerated() where entry.type == absolute {
            let entryOffset = table.fileOffset(ofEntry: position)
            let field = Int(clamping: entry.offset)
            if pointers.lsdaFields.contains(field) {
                try writeRelocation(at: entryOffset, symbol: entry.symbolIndex, type: pcRelative, addend: entry.addend)
                summary.unwindPointers += 1
            } else if let encoding = pointers.personalityFields[field] {
                guard let symbol = symbol(at: entry.symbolIndex) else { continue }
                if !symbol.isDefined, let target = executable.definition(named: symbol.name) {
                    let slot = fixups.symbol(for: .address(delta: delta(to: target.address) &+ entry.addend))
                    try writeRelocation(at: entryOffset, symbol: index(ofUndefined: slot), type: pcRelative, addend: 0)
                    try write(EHFramePointers.indirectPCRelative64, at: sectionStart + encoding)
                } else {
                    try writeRelocation(at: entryOffset, symbol: entry.symbolIndex, type: pcRelative, addend: entry.addend)
                    try write(EHFramePointers.pcRelative64, at: sectionStart + encoding)
                }
                summary.unwindPointers += 1
            }
        }
    }

    // MARK: - Symbols

    mutating func anchorIndex() throws(RelocateError) -> UInt32 {
        try index(ofUndefined: FixupObject.anchorSymbol)
    }

    /// The index of a new GLOBAL NOTYPE undefined symbol `name`, appended on first use.
    mutating func index(ofUndefined name: String) throws(RelocateError) -> UInt32 {
        if let index = symbolIndices[name] { return index }
        guard let index = UInt32(exactly: symbolCount + addedSymbols.count) else {
            throw .malformedObject(path: image.path, reason: "too many symbols")
        }
        addedSymbols.append((name, index, nil))
        symbolIndices[name] = index
        return index
    }

    /// Appends a GLOBAL, default-visibility alias of a static the edit adds, so the library
    /// exports it for later patches (``SlideIndependentObject/newStaticPrefix``). Statics in
    /// sections past the 16-bit index range keep no alias (a later patch then starts them fresh).
    private mutating func exportAlias(of symbol: ObjectSymbol) throws(RelocateError) {
        let name = SlideIndependentObject.newStaticPrefix + symbol.name
        guard !exportedAliases.contains(name), let section = symbol.sectionIndex, section > 0, section < Int(ELF.SectionIndex.loReserve) else { return }
        guard let index = UInt32(exactly: symbolCount + addedSymbols.count) else {
            throw .malformedObject(path: image.path, reason: "too many symbols")
        }
        exportedAliases.insert(name)
        addedSymbols.append((name, index, (UInt16(section), symbol.value, symbol.size)))
    }

    /// Aliases this object exports: mangled names of the statics the edit added.
    var exportedStatics: [String] {
        exportedAliases.map { String($0.dropFirst(SlideIndependentObject.newStaticPrefix.count)) }.sorted()
    }

    /// Renames the object's own `main` definition (the bin crate's C entry point).
    mutating func renameMain() throws(RelocateError) {
        for case let symbol? in image.symbols where symbol.name == FixupObject.anchorSymbol && symbol.isDefined {
            let name = UInt32(strings.count)
            strings += Array(SlideIndependentObject.renamedMain.utf8) + [0]
            do {
                try out.setNameOffset(name, ofSymbol: symbol.index, in: image.symbolTable)
            } catch {
                throw malformed(error)
            }
        }
    }

    // MARK: - Bytes

    /// The edited object: the symbol and string tables (and extended section indices) with the
    /// added symbols appended at the end of the file, so no other offset moves.
    mutating func finish() throws(RelocateError) -> [UInt8] {
        guard !addedSymbols.isEmpty || strings.count != Int(image.sections[Int(image.symbolTable.link)].size) else {
            return out.bytes
        }
        let layout = out.layout
        // One allocation for the tables appended below (growing the array would copy the object).
        out.reserveCapacity(forAppending: Int(clamping: image.symbolTable.size) + strings.count
            + addedSymbols.count * (layout.symbolSize + layout.extendedSectionIndexSize)
            + addedSymbols.reduce(0) { $0 + $1.name.utf8.count + 1 } + 64)
        do {
            var symbols = try out.contents(of: image.symbolTable)
            for added in addedSymbols {
                let name = UInt32(strings.count)
                strings += Array(added.name.utf8) + [0]
                let entry = if let definition = added.definition {
                    // Default visibility: exported.
                    ELFSymbolEntry(
                        nameOffset: name, binding: ELF.SymbolBinding.global, type: ELF.SymbolType.object,
                        sectionIndex: definition.section, value: definition.value, size: definition.size)
                } else {
                    // Default visibility: bound by the link or the loader.
                    ELFSymbolEntry(
                        nameOffset: name, binding: ELF.SymbolBinding.global, type: ELF.SymbolType.notype,
                        sectionIndex: ELF.SectionIndex.undefined)
                }
                symbols += try out.encode(entry)
            }
            try out.moveSection(image.symbolTable.index, toAppended: symbols, alignment: layout.wordSize)
            try out.moveSection(Int(image.symbolTable.link), toAppended: strings, alignment: 1)
            if let extended = image.sections.first(where: {
                $0.type == ELF.SectionType.symtabShndx && Int($0.link) == image.symbolTable.index
            }) {
                let indices = try out.contents(of: extended)
                    + [UInt8](repeating: 0, count: layout.extendedSectionIndexSize * addedSymbols.count)
                try out.moveSection(extended.index, toAppended: indices, alignment: layout.extendedSectionIndexSize)
            }
        } catch {
            throw malformed(error)
        }
        return out.bytes
    }

    mutating func writeRelocation(at entryOffset: Int, symbol: UInt32, type: UInt32, addend: Int64) throws(RelocateError) {
        do {
            try out.setRelocation(ofEntryAt: entryOffset, symbolIndex: symbol, type: type, addend: addend)
        } catch {
            throw malformed(error)
        }
    }

    mutating func write<T: FixedWidthInteger>(_ value: T, at offset: Int) throws(RelocateError) {
        do {
            try out.write(value, at: offset)
        } catch {
            throw malformed(error)
        }
    }

    func read(_ type: UInt32.Type, at offset: Int) throws(RelocateError) -> UInt32 {
        do {
            return try out.read(type, at: offset)
        } catch {
            throw malformed(error)
        }
    }

    /// Rewrites section `index`'s `sh_flags`.
    mutating func setFlags(_ flags: UInt64, ofSection index: Int) throws(RelocateError) {
        do {
            try out.setFlags(flags, ofSection: index)
        } catch {
            throw malformed(error)
        }
    }

    /// ObjectFile's bounds errors as this object's.
    func malformed(_ error: ObjectFileError) -> RelocateError {
        .malformedObject(path: image.path, reason: error.what)
    }
}
