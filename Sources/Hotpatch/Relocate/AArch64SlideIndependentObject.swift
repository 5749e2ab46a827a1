import ObjectFile

/// The aarch64 counterpart of ``SlideIndependentObject``: rewrites one patch object compiled with
/// ``StaticsRelocation/largeCodeModel`` so the library linked from it loads at any address in
/// every process of the build, uses the executable's statics and thread-locals, and has no text
/// relocation (Android's loader refuses `DT_TEXTREL`; the link passes `-z text` so lld fails
/// rather than emit one) and no writable code.
///
/// - An address quartet (``AArch64AddressQuartet``) becomes `adrp xN` + one instruction, the
///   other two pieces `nop`:
///   - to the patch's own code or data: `add xN, xN, #:lo12:` (`ADR_PREL_PG_HI21` +
///     `ADD_ABS_LO12_NC`, PC-relative within the library);
///   - to the executable (an undefined name it defines, or a writable static the object defines
///     that the executable also has): `ldr xN, [xN, #:lo12:slot]` from an address slot of the
///     ``FixupTable`` (`ABS64` against `main` + delta in writable data, filled by the loader);
///   - to anything else undefined (libc, an earlier patch's static): the GOT form
///     (`ADR_GOT_PAGE` + `LD64_GOT_LO12_NC`).
/// - `CALL26`/`JUMP26` to an executable function → a trampoline through an address slot.
/// - `ABS64` data to the executable → `ABS64` against `main` + delta; a read-only section with an
///   `ABS64` becomes writable (a dynamic relocation in read-only memory is a text relocation).
/// - Local-exec `TLSLE_ADD_TPREL_HI12`/`LO12` → the executable's thread-pointer offset written
///   into the two `add` immediates (TLS variant I); initial-exec → a thread-pointer slot.
/// - `.eh_frame` as on x86_64, with `PREL64`.
struct AArch64SlideIndependentObject {
    private typealias Relocation = ELF.AArch64Relocation
    private var base: ObjectRewriter
    private var image: RelocatableImage { base.image }
    private var executable: ExecutableStatics { base.executable }
    /// Read-only allocated sections that carry an `ABS64` (index → flags): made writable at the end.
    private var sectionsToMakeWritable: [Int: UInt64] = [:]

    /// Rewrites the object `base` holds, adding the slots and trampolines it needs to `fixups`.
    static func rewrite(
        _ base: ObjectRewriter, fixups: inout FixupTable, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) -> (bytes: [UInt8], exportedStatics: [String]) {
        var rewriter = AArch64SlideIndependentObject(base: base)
        try rewriter.rewrite(fixups: &fixups, summary: &summary)
        return (try rewriter.base.finish(), rewriter.base.exportedStatics)
    }

    private mutating func rewrite(fixups: inout FixupTable, summary: inout StaticsRelocationSummary) throws(RelocateError) {
        try base.renameMain()
        for table in image.relocationTables where table.target.flags & ELF.SectionFlags.alloc != 0 {
            if table.target.name == ".eh_frame" {
                try base.rewriteUnwindPointers(
                    table, absolute: Relocation.abs64, pcRelative: Relocation.prel64, fixups: &fixups, summary: &summary)
                continue
            }
            var inQuartet = Set<Int>()
            for quartet in try AArch64AddressQuartet.find(in: table, of: image) {
                try rewriteAddress(quartet, table: table, fixups: &fixups, summary: &summary)
                inQuartet.formUnion(quartet.entries)
            }
            for (index, entry) in table.entries.enumerated() where !inQuartet.contains(index) {
                try rewriteReference(entry, at: table.fileOffset(ofEntry: index), table: table, fixups: &fixups, summary: &summary)
            }
        }
        for (index, flags) in sectionsToMakeWritable.sorted(by: { $0.key < $1.key }) {
            try base.setFlags(flags | ELF.SectionFlags.write, ofSection: index)
        }
    }

    // MARK: - Addresses

    /// How an address quartet reaches its target.
    private enum AddressForm {
        /// `adrp` + `add` against the symbol itself (the patch's own).
        case own(symbol: UInt32, addend: Int64)
        /// `adrp` + `ldr` from a linker-made GOT entry; `offset` is added after the load.
        case got(symbol: UInt32, offset: Int64)
        /// `adrp` + `ldr` from an address slot of the fixup object.
        case slot(name: String)
    }

    private mutating func rewriteAddress(
        _ quartet: AArch64AddressQuartet, table: RelocatableImage.RelocationTable,
        fixups: inout FixupTable, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) {
        guard let symbol = base.symbol(at: quartet.symbolIndex) else {
            throw .malformedObject(path: image.path, reason: "an address in \(table.target.name) names symbol \(quartet.symbolIndex), which doesn't exist")
        }
        let form: AddressForm
        if symbol.isDefined {
            form = try ownOrExecutableForm(quartet, fixups: &fixups, summary: &summary)
        } else if let target = base.executableDefinition(named: symbol.name) {
            switch target.kind {
            case .threadLocal:
                throw .unreachableStatic(name: symbol.name, relocationType: Relocation.movwUabsG0Nc, path: image.path)
            case .indirectFunction:
                form = .got(symbol: quartet.symbolIndex, offset: quartet.addend)  // the loader resolves IFUNCs in GOT entries
            case .function, .data, .other:
                summary.executableReferences += 1
                form = .slot(name: fixups.symbol(for: .address(delta: base.delta(to: target.address) &+ quartet.addend)))
            }
        } else {
            form = .got(symbol: quartet.symbolIndex, offset: quartet.addend)
        }
        try write(form, for: quartet, table: table)
    }

    /// A quartet to something the object defines: the executable's copy of a writable static it
    /// has too, an earlier patch's exported storage, or the patch's own.
    private mutating func ownOrExecutableForm(
        _ quartet: AArch64AddressQuartet, fixups: inout FixupTable, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) -> AddressForm {
        let own = AddressForm.own(symbol: quartet.symbolIndex, addend: quartet.addend)
        guard let (symbol, offset) = image.target(symbolIndex: quartet.symbolIndex, addend: quartet.addend),
              let section = image.section(of: symbol), ObjectRewriter.isMutableStorage(symbol, in: section)
        else { return own }
        switch try base.storage(of: symbol, offset: offset, summary: &summary) {
        case .executable(let delta): return .slot(name: fixups.symbol(for: .address(delta: delta)))
        case .earlierPatch(let alias, let offset): return .got(symbol: try base.index(ofUndefined: alias), offset: offset)
        case .own: return own
        }
    }

    /// Writes the two instructions and relocations of `form` over the quartet's first two pieces
    /// and `nop`s (or the GOT form's offset `add`) with `R_AARCH64_NONE` over the other two.
    private mutating func write(
        _ form: AddressForm, for quartet: AArch64AddressQuartet, table: RelocatableImage.RelocationTable
    ) throws(RelocateError) {
        let register = quartet.register
        let second: UInt32
        var third = AArch64Instruction.nop
        let relocations: (first: UInt32, second: UInt32, symbol: UInt32, addend: Int64)
        switch form {
        case .own(let symbol, let addend):
            second = AArch64Instruction.add(register, base: register)
            relocations = (Relocation.adrPrelPgHi21, Relocation.addAbsLo12Nc, symbol, addend)
        case .got(let symbol, let offset):
            // lld makes one GOT entry per symbol, never symbol + addend: the offset is added after.
            guard (0...0xfff).contains(offset) else {
                throw .unexpectedInstruction(
                    path: image.path, section: table.target.name, offset: quartet.offsets[0],
                    reason: "an address of an undefined symbol + \(offset) has no GOT form (the offset doesn't fit an ADD immediate)")
            }
            second = AArch64Instruction.load64(register, base: register)
            if offset != 0 { third = AArch64Instruction.add(register, base: register, immediate: UInt32(offset)) }
            relocations = (Relocation.adrGotPage, Relocation.ld64GotLo12Nc, symbol, 0)
        case .slot(let name):
            second = AArch64Instruction.load64(register, base: register)
            relocations = (Relocation.adrPrelPgHi21, Relocation.ldst64AbsLo12Nc, try base.index(ofUndefined: name), 0)
        }
        let instructions = [AArch64Instruction.adrp(register), second, third, AArch64Instruction.nop]
        for (piece, instruction) in instructions.enumerated() {
            let position = try AArch64AddressQuartet.fileOffset(of: quartet.offsets[piece], in: table.target, of: image)
            try base.write(instruction, at: position)
            let entryOffset = table.fileOffset(ofEntry: quartet.entries[piece])
            switch piece {
            case 0: try base.writeRelocation(at: entryOffset, symbol: relocations.symbol, type: relocations.first, addend: relocations.addend)
            case 1: try base.writeRelocation(at: entryOffset, symbol: relocations.symbol, type: relocations.second, addend: relocations.addend)
            default: try base.writeRelocation(at: entryOffset, symbol: 0, type: Relocation.none, addend: 0)
            }
        }
    }

    // MARK: - Other references

    private mutating func rewriteReference(
        _ entry: ELFRelocation, at entryOffset: Int, table: RelocatableImage.RelocationTable,
        fixups: inout FixupTable, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) {
        if Relocation.absoluteInstructions.contains(entry.type) {
            throw .unexpectedInstruction(
                path: image.path, section: table.target.name, offset: entry.offset,
                reason: "relocation type \(entry.type) is an absolute instruction immediate outside an address quartet, which no library can hold")
        }
        if entry.type == Relocation.abs64, table.target.flags & ELF.SectionFlags.write == 0 {
            // Every ABS64 in a library is a dynamic relocation: in read-only memory, a text relocation.
            guard table.target.flags & ELF.SectionFlags.execinstr == 0 else {
                throw .unreachableStatic(name: base.symbol(at: entry.symbolIndex)?.name ?? "?", relocationType: entry.type, path: image.path)
            }
            sectionsToMakeWritable[table.target.index] = table.target.flags
        }
        guard let symbol = base.symbol(at: entry.symbolIndex) else { return }
        if Relocation.localExecAdd.contains(entry.type) {
            // A section symbol (`.tbss.…`) stands for the thread-local covering its offset.
            let target = symbol.isDefined ? image.target(symbolIndex: entry.symbolIndex, addend: entry.addend) : nil
            try writeLocalExec(
                entry, at: entryOffset, table: table, name: target?.symbol.name ?? symbol.name,
                size: target?.symbol.size, addend: target?.offset ?? entry.addend, summary: &summary)
        } else if symbol.isDefined {
            try rewriteDefinedReference(entry, at: entryOffset, summary: &summary)
        } else {
            try rewriteExecutableReference(entry, name: symbol.name, at: entryOffset, fixups: &fixups, summary: &summary)
        }
    }

    /// A data or thread-local reference to something the object defines: only writable statics
    /// (and thread-locals) the executable also has are redirected.
    private mutating func rewriteDefinedReference(
        _ entry: ELFRelocation, at entryOffset: Int, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) {
        guard let (symbol, offset) = image.target(symbolIndex: entry.symbolIndex, addend: entry.addend),
              let section = image.section(of: symbol)
        else { return }
        if entry.type == Relocation.abs64, ObjectRewriter.isMutableStorage(symbol, in: section) {
            try base.redirect(absolute: entryOffset, type: Relocation.abs64, to: base.storage(of: symbol, offset: offset, summary: &summary))
        } else {
            try base.refuseUnreachable(
                symbol, type: entry.type, in: section, cannotReach: Relocation.reachesOnlyThePatchCopy,
                otherThreadLocalModels: Relocation.otherThreadLocalModels)
        }
    }

    /// Local-exec `add`s to a thread-local the executable has: its offset is constant for the build
    /// (TLS variant I: the executable's block follows the thread control block), so it is written
    /// into the immediate — bits 12–23 in the `lsl #12` add, bits 0–11 in the other — and the
    /// relocation dropped.
    private mutating func writeLocalExec(
        _ entry: ELFRelocation, at entryOffset: Int, table: RelocatableImage.RelocationTable, name: String, size: UInt64?,
        addend: Int64, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) {
        // `size`: of the object's own definition, which must match the executable's (else the
        // edit changed its type: a new thread-local).
        guard case .found(let value, let executableSize) = executable.threadLocal(named: name),
              executableSize == 0 || (size ?? 0) == 0 || executableSize == size
        else { throw .newThreadLocal(name: name, path: image.path) }
        let start = executable.threadPointerOffset(ofTemplateOffset: value)
        let (offset, overflow) = (start ?? 0).addingReportingOverflow(addend)
        // HI12 + LO12 hold 24 bits; the checked LO12 form only 12.
        let limit: Int64 = entry.type == Relocation.tlsleAddTprelLo12 ? 0xfff : 0xff_ffff
        guard start != nil, !overflow, (0...limit).contains(offset) else {
            throw .threadLocalOutOfRange(name: name, offset: offset)
        }
        let shifted = entry.type == Relocation.tlsleAddTprelHi12
        let immediate = UInt32(shifted ? offset >> 12 : offset & 0xfff)
        let position = try AArch64AddressQuartet.fileOffset(of: entry.offset, in: table.target, of: image)
        let instruction = try base.read(UInt32.self, at: position)
        guard let edited = AArch64Instruction.settingAddImmediate(instruction, to: immediate, shifted: shifted) else {
            throw .unexpectedInstruction(
                path: image.path, section: table.target.name, offset: entry.offset,
                reason: "relocation type \(entry.type) patches 0x\(String(instruction, radix: 16)), not the 64-bit ADD\(shifted ? ", lsl #12," : "") it expects")
        }
        summary.threadLocals.append(name)
        summary.references += 1
        try base.write(edited, at: position)
        try base.writeRelocation(at: entryOffset, symbol: 0, type: Relocation.none, addend: 0)
    }

    /// A reference the object leaves undefined: to a name the executable defines it is bound to
    /// the executable's copy relative to `main`; otherwise (libc, the loader, the patch's other
    /// objects) it stays for the link and the loader.
    private mutating func rewriteExecutableReference(
        _ entry: ELFRelocation, name: String, at entryOffset: Int,
        fixups: inout FixupTable, summary: inout StaticsRelocationSummary
    ) throws(RelocateError) {
        guard let target = base.executableDefinition(named: name) else { return }
        switch target.kind {
        case .threadLocal:
            guard Relocation.initialExec.contains(entry.type) else { return }  // dynamic models: bound by name
            guard let offset = executable.threadPointerOffset(ofTemplateOffset: target.address) else {
                throw .threadLocalOutOfRange(name: name, offset: Int64(clamping: target.address))
            }
            let slot = fixups.symbol(for: .threadPointerOffset(offset))
            summary.threadLocals.append(name)
            summary.references += 1
            // The same adrp + ldr, from the slot instead of a GOT entry.
            let type = entry.type == Relocation.tlsieAdrGottprelPage21 ? Relocation.adrPrelPgHi21 : Relocation.ldst64AbsLo12Nc
            try base.writeRelocation(at: entryOffset, symbol: base.index(ofUndefined: slot), type: type, addend: entry.addend)
        case .indirectFunction:
            return  // the loader resolves exported IFUNCs itself
        case .function, .data, .other:
            let delta = base.delta(to: target.address)
            summary.executableReferences += 1
            switch entry.type {
            case Relocation.abs64:
                try base.writeRelocation(at: entryOffset, symbol: base.anchorIndex(), type: Relocation.abs64, addend: delta &+ entry.addend)
            case let type where Relocation.branches.contains(type) && target.kind != .data:
                let trampoline = fixups.trampoline(delta: delta)
                try base.writeRelocation(at: entryOffset, symbol: base.index(ofUndefined: trampoline), type: type, addend: entry.addend)
            case let type where Relocation.gotLoads.contains(type) && entry.addend == 0:
                let slot = fixups.symbol(for: .address(delta: delta))
                let slotType = type == Relocation.adrGotPage ? Relocation.adrPrelPgHi21 : Relocation.ldst64AbsLo12Nc
                try base.writeRelocation(at: entryOffset, symbol: base.index(ofUndefined: slot), type: slotType, addend: 0)
            default:
                throw .unreachableStatic(name: name, relocationType: entry.type, path: image.path)
            }
        }
    }
}
