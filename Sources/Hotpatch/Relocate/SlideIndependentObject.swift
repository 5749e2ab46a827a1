import Foundation
import ObjectFile

/// Rewrites one patch object (x86_64 ELF, compiled with ``StaticsRelocation/largeCodeModel``) so
/// the library linked from it works in every process of the build and uses the executable's
/// statics instead of fresh copies.
///
/// Every reference to something the executable has becomes relative to the executable's
/// exported `main`, which the dynamic loader resolves in each process at `dlopen`:
/// - `R_X86_64_64` to an executable symbol (undefined in the object), or to a writable static the
///   object defines and the executable also has → `R_X86_64_64` against `main` with addend
///   `target − main` (file addresses) + the offset;
/// - `PLT32`/`PC32` to an executable function → to a trampoline jumping through an address slot;
/// - `GOTPCREL` forms → `PC32` to an address slot (the slot is the GOT entry);
/// - `GOTTPOFF` to an executable thread-local → `PC32` to a slot holding its thread-pointer
///   offset; `TPOFF32` to the crate's own thread-local → the executable's offset, written into
///   the instruction (constant for the build: TLS variant II puts the executable's block right
///   below the thread pointer);
/// - `.eh_frame`'s absolute personality and LSDA pointers → pc-relative (personality indirect
///   through a slot).
/// The object's own `main` (the bin crate's C entry) is renamed, so `main` in the library always
/// means the executable's. Relocation entries and instruction bytes change in place; the symbol and
/// string tables are copied to the end of the file with the new names, so no other offset moves.
struct SlideIndependentObject {
    static let renamedMain = "__whisker_patch_main"
    /// Prefix of the exported alias a patch gives each static it adds, so later patches of the
    /// build reach that storage instead of starting their own copy.
    static let newStaticPrefix = "__whisker_new_static."

    /// Statics earlier patches of the build added (absent from the executable), by mangled name.
    struct EarlierStatics: Sendable {
        var names: Set<String> = []
    }

    private let image: RelocatableImage
    private let executable: ExecutableStatics
    private let anchorAddress: UInt64
    /// Global names some object of the link defines: the patch's own, never the executable's.
    private let definedInPatch: Set<String>
    /// The object's bytes being edited.
    private var out: ELFFileEditor
    private var strings: [UInt8]
    /// Symbols appended to `.symtab`: undefined references, and (with a section) exported aliases.
    private var addedSymbols: [(name: String, index: UInt32, definition: (section: UInt16, value: UInt64, size: UInt64)?)] = []
    private let earlierStatics: EarlierStatics
    private var exportedAliases = Set<String>()
    private var symbolIndices: [String: UInt32] = [:]
    private let symbolCount: Int

    /// Reads the object at `path` for ``rewrite(_:executable:anchorAddress:definedInPatch:earlierStatics:fixups:summary:)``.
    static func read(objectAt path: String) throws(RelocateError) -> RelocatableImage {
        // One copy, from the mapping into the array the rewrite edits: objects are megabytes.
        let bytes: [UInt8]
        do {
            bytes = try MappedFile(path: path, prefault: true).withUnsafeBytes { [UInt8]($0) }
        } catch {
            throw .unsupportedObject(path: path, found: "unreadable (\(error.description))")
        }
        return try RelocatableImage(path: path, bytes: bytes)
    }

    /// Rewrites `image`, adding the slots it needs to `fixups`.
    static func rewrite(
        _ image: RelocatableImage, executable: SymbolTable, anchorAddress: UInt64, definedInPatch: Set<String>,
        earlierStatics: EarlierStatics = .init(), fixups: inout FixupTable, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) -> (bytes: [UInt8], exportedStatics: [String]) {
        var rewriter = try SlideIndependentObject(
            image: image, executable: ExecutableStatics(table: executable),
            anchorAddress: anchorAddress, definedInPatch: definedInPatch, earlierStatics: earlierStatics)
        try rewriter.rewrite(fixups: &fixups, summary: &summary)
        return (try rewriter.finish(), rewriter.exportedStatics)
    }

    private init(
        image: RelocatableImage, executable: ExecutableStatics, anchorAddress: UInt64, definedInPatch: Set<String>,
        earlierStatics: EarlierStatics
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
        do {
            strings = try image.file.contents(of: image.sections[stringSection])
        } catch {
            throw .malformedObject(path: image.path, reason: error.what)
        }
        symbolCount = Int(image.symbolTable.size) / image.file.layout.symbolSize
    }

    private mutating func rewrite(fixups: inout FixupTable, summary: inout StaticsRelocationSummary) throws(RelocateError) {
        try renameMain()
        for table in image.relocationTables where table.target.flags & ELF.SectionFlags.alloc != 0 {
            if table.target.name == ".eh_frame" {
                try rewriteUnwindPointers(table, fixups: &fixups, summary: &summary)
                continue
            }
            for (index, entry) in table.entries.enumerated() {
                let entryOffset = table.fileOffset(ofEntry: index)
                guard Int(entry.symbolIndex) < image.symbols.count, let symbol = image.symbols[Int(entry.symbolIndex)] else {
                    continue
                }
                if symbol.isDefined {
                    try rewriteDefinedReference(entry, at: entryOffset, table: table, summary: &summary)
                } else {
                    try rewriteExecutableReference(entry, name: symbol.name, at: entryOffset, table: table, fixups: &fixups, summary: &summary)
                }
            }
        }
    }

    /// A reference to something the object defines: only writable statics (and thread-locals) the
    /// executable also has are redirected; code and constants stay the patch's (they may have changed).
    private mutating func rewriteDefinedReference(
        _ entry: ELFRelocation, at entryOffset: Int, table: RelocatableImage.RelocationTable,
        summary: inout StaticsRelocationSummary
    ) throws(RelocateError) {
        guard let (symbol, offset) = image.target(symbolIndex: entry.symbolIndex, addend: entry.addend),
              let section = image.section(of: symbol)
        else { return }
        let isThreadLocal = section.flags & ELF.SectionFlags.tls != 0 || symbol.kind == .tls
        let isMutableStorage = !isThreadLocal && section.flags & ELF.SectionFlags.write != 0
            && section.flags & ELF.SectionFlags.alloc != 0 && !section.name.contains(".rel.ro")
            && symbol.kind != .function
        switch entry.type {
        case ELF.X86_64Relocation.abs64 where isMutableStorage:
            switch executable.data(named: symbol.name) {
            case .found(let address, let size):
                if size != 0, symbol.size != 0, size != symbol.size {
                    summary.changed.append(symbol.name)
                    return
                }
                summary.statics.append(symbol.name)
                summary.references += 1
                try writeRelocation(at: entryOffset, symbol: anchorIndex(), type: ELF.X86_64Relocation.abs64,
                                    addend: delta(to: address) &+ offset)
            case .absent where earlierStatics.names.contains(symbol.name):
                // Added by an earlier patch: its library exports the storage; the link names it
                // as a needed library and the loader binds the alias.
                summary.earlierPatchStatics.append(symbol.name)
                summary.references += 1
                try writeRelocation(at: entryOffset, symbol: index(ofUndefined: Self.newStaticPrefix + symbol.name),
                                    type: ELF.X86_64Relocation.abs64, addend: offset)
            case .absent:
                summary.newStatics.append(symbol.name)
                try exportAlias(of: symbol)
            case .incompatible:
                summary.changed.append(symbol.name)
            }
        case ELF.X86_64Relocation.tpoff32 where isThreadLocal:
            guard case .found(let value, let size) = executable.threadLocal(named: symbol.name),
                  size == 0 || symbol.size == 0 || size == symbol.size
            else { throw .newThreadLocal(name: symbol.name, path: image.path) }
            try writeThreadPointerOffset(entry, at: entryOffset, table: table, templateOffset: value, addend: offset, name: symbol.name, summary: &summary)
        case let type where ELF.X86_64Relocation.cannotReachExecutable.contains(type) && isMutableStorage:
            if case .found = executable.data(named: symbol.name) {
                throw .unreachableStatic(name: symbol.name, relocationType: type, path: image.path)
            }
        case let type where ELF.X86_64Relocation.ownThreadLocalAccess.contains(type) && isThreadLocal:
            if case .found = executable.threadLocal(named: symbol.name) {
                throw .unreachableStatic(name: symbol.name, relocationType: type, path: image.path)
            }
            throw .newThreadLocal(name: symbol.name, path: image.path)
        default:
            return
        }
    }

    /// Local-exec access to an executable thread-local: its thread-pointer offset is constant for
    /// the build (TLS variant II puts the executable's block right below the thread pointer), so
    /// it is written into the instruction and the relocation dropped.
    private mutating func writeThreadPointerOffset(
        _ entry: ELFRelocation, at entryOffset: Int, table: RelocatableImage.RelocationTable, templateOffset: UInt64,
        addend: Int64, name: String, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) {
        let base = executable.threadPointerOffset(ofTemplateOffset: templateOffset)
        guard let base, let fixed = Int32(exactly: base + addend) else {
            throw .threadLocalOutOfRange(name: name, offset: (base ?? 0) + addend)
        }
        guard table.target.hasFileBytes, entry.offset < table.target.size, table.target.size - entry.offset >= 4 else {
            throw .malformedObject(path: image.path, reason: "a TPOFF32 relocation at \(entry.offset) lies outside \(table.target.name)")
        }
        summary.threadLocals.append(name)
        summary.references += 1
        try write(UInt32(bitPattern: fixed), at: Int(clamping: table.target.offset) &+ Int(clamping: entry.offset))
        try writeRelocation(at: entryOffset, symbol: 0, type: ELF.X86_64Relocation.none, addend: 0)
    }

    /// A reference the object leaves undefined: when the executable defines the name, it is bound
    /// to the executable's copy relative to `main`; otherwise (libc, the loader) it stays for the
    /// dynamic loader to bind by name.
    private mutating func rewriteExecutableReference(
        _ entry: ELFRelocation, name: String, at entryOffset: Int, table: RelocatableImage.RelocationTable,
        fixups: inout FixupTable, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) {
        // A crate's thread-local that another of its codegen units defines: that unit's definition
        // is bound to the executable's storage too, so the offset is the executable's either way
        // (a local-exec access cannot reach a shared library's TLS).
        if entry.type == ELF.X86_64Relocation.tpoff32 {
            guard case .found(let value, _) = executable.threadLocal(named: name) else {
                throw .newThreadLocal(name: name, path: image.path)
            }
            try writeThreadPointerOffset(entry, at: entryOffset, table: table, templateOffset: value, addend: entry.addend, name: name, summary: &summary)
            return
        }
        guard name != FixupObject.anchorSymbol, !definedInPatch.contains(name), let target = executable.definition(named: name) else { return }
        switch target.kind {
        case .threadLocal:
            guard entry.type == ELF.X86_64Relocation.gottpoff else {
                if entry.type == ELF.X86_64Relocation.tpoff32 {
                    throw .unreachableStatic(name: name, relocationType: entry.type, path: image.path)
                }
                return  // general/local dynamic: the loader binds exported thread-locals by name
            }
            guard let offset = executable.threadPointerOffset(ofTemplateOffset: target.address) else {
                throw .threadLocalOutOfRange(name: name, offset: Int64(clamping: target.address))
            }
            let slot = fixups.symbol(for: .threadPointerOffset(offset))
            summary.threadLocals.append(name)
            summary.references += 1
            try writeRelocation(at: entryOffset, symbol: index(ofUndefined: slot), type: ELF.X86_64Relocation.pc32, addend: entry.addend)
        case .indirectFunction:
            return  // the loader resolves exported IFUNCs itself
        case .function, .data, .other:
            let delta = delta(to: target.address)
            summary.executableReferences += 1
            switch entry.type {
            case ELF.X86_64Relocation.abs64:
                try writeRelocation(at: entryOffset, symbol: anchorIndex(), type: ELF.X86_64Relocation.abs64,
                                    addend: delta &+ entry.addend)
            // PLT32 always (a call), PC32 unless it addresses data.
            case let type where type == ELF.X86_64Relocation.plt32 || (type == ELF.X86_64Relocation.pc32 && target.kind != .data):
                let trampoline = fixups.trampoline(delta: delta)
                try writeRelocation(at: entryOffset, symbol: index(ofUndefined: trampoline), type: entry.type, addend: entry.addend)
            case let type where ELF.X86_64Relocation.gotLoads.contains(type):
                let slot = fixups.symbol(for: .address(delta: delta))
                try writeRelocation(at: entryOffset, symbol: index(ofUndefined: slot), type: ELF.X86_64Relocation.pc32, addend: entry.addend)
            default:
                throw .unreachableStatic(name: name, relocationType: entry.type, path: image.path)
            }
        }
    }

    /// `.eh_frame`: absolute personality and LSDA pointers become pc-relative (see ``EHFramePointers``).
    private mutating func rewriteUnwindPointers(
        _ table: RelocatableImage.RelocationTable, fixups: inout FixupTable, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) {
        let pointers: EHFramePointers
        do {
            pointers = try EHFramePointers(section: image.contents(of: table.target))
        } catch {
            throw .malformedObject(path: image.path, reason: error.reason)
        }
        let sectionStart = Int(clamping: table.target.offset)
        for encoding in pointers.lsdaEncodingBytes { try write(EHFramePointers.pcRelative64, at: sectionStart + encoding) }
        for (position, entry) in table.entries.enumerated() where entry.type == ELF.X86_64Relocation.abs64 {
            let entryOffset = table.fileOffset(ofEntry: position)
            let field = Int(clamping: entry.offset)
            if pointers.lsdaFields.contains(field) {
                try writeRelocation(at: entryOffset, symbol: entry.symbolIndex, type: ELF.X86_64Relocation.pc64, addend: entry.addend)
                summary.unwindPointers += 1
            } else if let encoding = pointers.personalityFields[field] {
                guard Int(entry.symbolIndex) < image.symbols.count, let symbol = image.symbols[Int(entry.symbolIndex)] else { continue }
                if !symbol.isDefined, let target = executable.definition(named: symbol.name) {
                    let slot = fixups.symbol(for: .address(delta: delta(to: target.address) &+ entry.addend))
                    try writeRelocation(at: entryOffset, symbol: index(ofUndefined: slot), type: ELF.X86_64Relocation.pc64, addend: 0)
                    try write(EHFramePointers.indirectPCRelative64, at: sectionStart + encoding)
                } else {
                    try writeRelocation(at: entryOffset, symbol: entry.symbolIndex, type: ELF.X86_64Relocation.pc64, addend: entry.addend)
                    try write(EHFramePointers.pcRelative64, at: sectionStart + encoding)
                }
                summary.unwindPointers += 1
            }
        }
    }

    // MARK: - Symbols

    private func delta(to fileAddress: UInt64) -> Int64 { Int64(bitPattern: fileAddress &- anchorAddress) }

    private mutating func anchorIndex() throws(RelocateError) -> UInt32 {
        try index(ofUndefined: FixupObject.anchorSymbol)
    }

    /// The index of a new GLOBAL NOTYPE undefined symbol `name`, appended on first use.
    private mutating func index(ofUndefined name: String) throws(RelocateError) -> UInt32 {
        if let index = symbolIndices[name] { return index }
        guard let index = UInt32(exactly: symbolCount + addedSymbols.count) else {
            throw .malformedObject(path: image.path, reason: "too many symbols")
        }
        addedSymbols.append((name, index, nil))
        symbolIndices[name] = index
        return index
    }

    /// Appends a GLOBAL, default-visibility alias of a static the edit adds, so the library
    /// exports it for later patches (``newStaticPrefix``). Statics in sections past the 16-bit
    /// index range keep no alias (a later patch then starts them fresh).
    private mutating func exportAlias(of symbol: ObjectSymbol) throws(RelocateError) {
        let name = Self.newStaticPrefix + symbol.name
        guard !exportedAliases.contains(name), let section = symbol.sectionIndex, section > 0, section < Int(ELF.SectionIndex.loReserve) else { return }
        guard let index = UInt32(exactly: symbolCount + addedSymbols.count) else {
            throw .malformedObject(path: image.path, reason: "too many symbols")
        }
        exportedAliases.insert(name)
        addedSymbols.append((name, index, (UInt16(section), symbol.value, symbol.size)))
    }

    /// Aliases this object exports: mangled names of the statics the edit added.
    var exportedStatics: [String] { exportedAliases.map { String($0.dropFirst(Self.newStaticPrefix.count)) }.sorted() }

    /// Renames the object's own `main` definition (the bin crate's C entry point).
    private mutating func renameMain() throws(RelocateError) {
        for case let symbol? in image.symbols where symbol.name == FixupObject.anchorSymbol && symbol.isDefined {
            let name = UInt32(strings.count)
            strings += Array(Self.renamedMain.utf8) + [0]
            do {
                try out.setNameOffset(name, ofSymbol: symbol.index, in: image.symbolTable)
            } catch {
                throw malformed(error)
            }
        }
    }

    // MARK: - Bytes

    private mutating func finish() throws(RelocateError) -> [UInt8] {
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

    private mutating func writeRelocation(at entryOffset: Int, symbol: UInt32, type: UInt32, addend: Int64) throws(RelocateError) {
        do {
            try out.setRelocation(ofEntryAt: entryOffset, symbolIndex: symbol, type: type, addend: addend)
        } catch {
            throw malformed(error)
        }
    }

    private mutating func write<T: FixedWidthInteger>(_ value: T, at offset: Int) throws(RelocateError) {
        do {
            try out.write(value, at: offset)
        } catch {
            throw malformed(error)
        }
    }

    /// ObjectFile's bounds errors as this object's.
    private func malformed(_ error: ObjectFileError) -> RelocateError {
        .malformedObject(path: image.path, reason: error.what)
    }
}
