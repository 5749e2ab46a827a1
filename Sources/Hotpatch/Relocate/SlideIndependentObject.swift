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
/// An aarch64 object is rewritten by ``AArch64SlideIndependentObject`` instead (same entry point);
/// both share ``ObjectRewriter``.
struct SlideIndependentObject {
    static let renamedMain = "__whisker_patch_main"
    /// Prefix of the exported alias a patch gives each static it adds, so later patches of the
    /// build reach that storage instead of starting their own copy.
    static let newStaticPrefix = "__whisker_new_static."

    /// Statics earlier patches of the build added (absent from the executable), by mangled name.
    struct EarlierStatics: Sendable {
        var names: Set<String> = []
    }

    private var base: ObjectRewriter
    private var image: RelocatableImage { base.image }
    private var executable: ExecutableStatics { base.executable }

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

    /// Rewrites `image` (x86_64 here, aarch64 through ``AArch64SlideIndependentObject``), adding
    /// the slots and trampolines it needs to `fixups`.
    static func rewrite(
        _ image: RelocatableImage, executable: SymbolTable, anchorAddress: UInt64, definedInPatch: Set<String>,
        earlierStatics: EarlierStatics = .init(), fixups: inout FixupTable, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) -> (bytes: [UInt8], exportedStatics: [String]) {
        let base = try ObjectRewriter(
            image: image, executable: ExecutableStatics(table: executable),
            anchorAddress: anchorAddress, definedInPatch: definedInPatch, earlierStatics: earlierStatics)
        if image.machine == ELF.Machine.aarch64 {
            return try AArch64SlideIndependentObject.rewrite(base, fixups: &fixups, summary: &summary)
        }
        var rewriter = SlideIndependentObject(base: base)
        try rewriter.rewrite(fixups: &fixups, summary: &summary)
        return (try rewriter.base.finish(), rewriter.base.exportedStatics)
    }

    private mutating func rewrite(fixups: inout FixupTable, summary: inout StaticsRelocationSummary) throws(RelocateError) {
        try base.renameMain()
        for table in image.relocationTables where table.target.flags & ELF.SectionFlags.alloc != 0 {
            if table.target.name == ".eh_frame" {
                try base.rewriteUnwindPointers(
                    table, absolute: ELF.X86_64Relocation.abs64, pcRelative: ELF.X86_64Relocation.pc64,
                    fixups: &fixups, summary: &summary)
                continue
            }
            for (index, entry) in table.entries.enumerated() {
                let entryOffset = table.fileOffset(ofEntry: index)
                guard let symbol = base.symbol(at: entry.symbolIndex) else {
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
        switch entry.type {
        case ELF.X86_64Relocation.abs64 where ObjectRewriter.isMutableStorage(symbol, in: section):
            try base.redirect(
                absolute: entryOffset, type: ELF.X86_64Relocation.abs64, to: base.storage(of: symbol, offset: offset, summary: &summary))
        case ELF.X86_64Relocation.tpoff32 where ObjectRewriter.isThreadLocal(symbol, in: section):
            guard case .found(let value, let size) = executable.threadLocal(named: symbol.name),
                  size == 0 || symbol.size == 0 || size == symbol.size
            else { throw .newThreadLocal(name: symbol.name, path: image.path) }
            try writeThreadPointerOffset(entry, at: entryOffset, table: table, templateOffset: value, addend: offset, name: symbol.name, summary: &summary)
        default:
            try base.refuseUnreachable(
                symbol, type: entry.type, in: section, cannotReach: ELF.X86_64Relocation.cannotReachExecutable,
                otherThreadLocalModels: ELF.X86_64Relocation.ownThreadLocalAccess)
        }
    }

    /// Local-exec access to an executable thread-local: its thread-pointer offset is constant for
    /// the build (TLS variant II puts the executable's block right below the thread pointer), so
    /// it is written into the instruction and the relocation dropped.
    private mutating func writeThreadPointerOffset(
        _ entry: ELFRelocation, at entryOffset: Int, table: RelocatableImage.RelocationTable, templateOffset: UInt64,
        addend: Int64, name: String, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) {
        let start = executable.threadPointerOffset(ofTemplateOffset: templateOffset)
        guard let start, let fixed = Int32(exactly: start + addend) else {
            throw .threadLocalOutOfRange(name: name, offset: (start ?? 0) + addend)
        }
        guard table.target.hasFileBytes, entry.offset < table.target.size, table.target.size - entry.offset >= 4 else {
            throw .malformedObject(path: image.path, reason: "a TPOFF32 relocation at \(entry.offset) lies outside \(table.target.name)")
        }
        summary.threadLocals.append(name)
        summary.references += 1
        try base.write(UInt32(bitPattern: fixed), at: Int(clamping: table.target.offset) &+ Int(clamping: entry.offset))
        try base.writeRelocation(at: entryOffset, symbol: 0, type: ELF.X86_64Relocation.none, addend: 0)
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
        guard let target = base.executableDefinition(named: name) else { return }
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
            try base.writeRelocation(at: entryOffset, symbol: base.index(ofUndefined: slot), type: ELF.X86_64Relocation.pc32, addend: entry.addend)
        case .indirectFunction:
            return  // the loader resolves exported IFUNCs itself
        case .function, .data, .other:
            let delta = base.delta(to: target.address)
            summary.executableReferences += 1
            switch entry.type {
            case ELF.X86_64Relocation.abs64:
                try base.writeRelocation(at: entryOffset, symbol: base.anchorIndex(), type: ELF.X86_64Relocation.abs64,
                                    addend: delta &+ entry.addend)
            // PLT32 always (a call), PC32 unless it addresses data.
            case let type where type == ELF.X86_64Relocation.plt32 || (type == ELF.X86_64Relocation.pc32 && target.kind != .data):
                let trampoline = fixups.trampoline(delta: delta)
                try base.writeRelocation(at: entryOffset, symbol: base.index(ofUndefined: trampoline), type: entry.type, addend: entry.addend)
            case let type where ELF.X86_64Relocation.gotLoads.contains(type):
                let slot = fixups.symbol(for: .address(delta: delta))
                try base.writeRelocation(at: entryOffset, symbol: base.index(ofUndefined: slot), type: ELF.X86_64Relocation.pc32, addend: entry.addend)
            default:
                throw .unreachableStatic(name: name, relocationType: entry.type, path: image.path)
            }
        }
    }
}
