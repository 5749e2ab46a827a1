import ObjectFile

/// Writes a ``FixupTable`` as an x86_64 or aarch64 ELF relocatable object (through ObjectFile's
/// `ELFRelocatableWriter`): `.text` with the trampolines, `.data` with the slots, their
/// relocations, and `main` as the one undefined symbol.
///
/// - x86_64: a trampoline is `jmp *slot(%rip)` (`PC32` − 4), padded to 8 bytes with `int3`;
/// - aarch64: `adrp x16, slot; ldr x16, [x16, #:lo12:slot]; br x16; brk #0` (16 bytes,
///   `ADR_PREL_PG_HI21` + `LDST64_ABS_LO12_NC`), so no text relocation is needed.
/// Address slots are `ABS64` against `main` + delta in writable `.data` either way.
///
/// Slot and trampoline symbols are GLOBAL + STV_HIDDEN: the rewritten patch objects reference
/// them by name, and the library never exports them.
struct FixupObject {
    static let anchorSymbol = "main"
    private static let textSection = ELFRelocatableWriter.firstContentSectionIndex
    private static let dataSection = textSection + 1

    let table: FixupTable
    /// `e_machine` of the objects it is linked with: ``ELF/Machine/x86_64`` or ``ELF/Machine/aarch64``.
    var machine: UInt16 = ELF.Machine.x86_64

    func bytes() throws(RelocateError) -> [UInt8] {
        let isAArch64 = machine == ELF.Machine.aarch64
        guard isAArch64 || machine == ELF.Machine.x86_64 else {
            throw .unsupportedObject(path: "the fixup object", found: "for ELF machine \(machine)")
        }
        var text: [UInt8] = []
        var textRelocations: [ELFRelocatableWriter.Relocation] = []
        var globals: [ELFRelocatableWriter.Symbol] = []
        for trampoline in table.trampolines {
            if isAArch64 {
                globals.append(.init(
                    name: trampoline.name, value: UInt64(text.count), size: 12, type: ELF.SymbolType.function,
                    sectionIndex: Self.textSection))
                textRelocations.append(.init(offset: UInt64(text.count), symbol: trampoline.slot, type: ELF.AArch64Relocation.adrPrelPgHi21, addend: 0))
                textRelocations.append(.init(offset: UInt64(text.count + 4), symbol: trampoline.slot, type: ELF.AArch64Relocation.ldst64AbsLo12Nc, addend: 0))
                text += AArch64Instruction.trampoline
                continue
            }
            globals.append(.init(
                name: trampoline.name, value: UInt64(text.count), size: 6, type: ELF.SymbolType.function,
                sectionIndex: Self.textSection))
            textRelocations.append(.init(offset: UInt64(text.count + 2), symbol: trampoline.slot, type: ELF.X86_64Relocation.pc32, addend: -4))
            text += [0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc]  // jmp *slot(%rip), padded to 8 with int3
        }
        var data: [UInt8] = []
        var dataRelocations: [ELFRelocatableWriter.Relocation] = []
        for slot in table.slots {
            guard let name = table.slotName(slot) else { continue }
            globals.append(.init(name: name, value: UInt64(data.count), size: 8, type: ELF.SymbolType.object, sectionIndex: Self.dataSection))
            let value: UInt64
            switch slot {
            case .address(let delta):
                let abs64 = isAArch64 ? ELF.AArch64Relocation.abs64 : ELF.X86_64Relocation.abs64
                dataRelocations.append(.init(offset: UInt64(data.count), symbol: Self.anchorSymbol, type: abs64, addend: delta))
                value = 0
            case .threadPointerOffset(let offset):
                value = UInt64(bitPattern: offset)
            }
            withUnsafeBytes(of: value.littleEndian) { data += $0 }
        }
        globals.append(.init(
            name: Self.anchorSymbol, value: 0, size: 0, type: ELF.SymbolType.notype,
            sectionIndex: ELF.SectionIndex.undefined, hidden: false))
        let writer = ELFRelocatableWriter(
            machine: machine,
            sections: [
                .init(name: ".text", flags: ELF.SectionFlags.alloc | ELF.SectionFlags.execinstr, alignment: 16, bytes: text,
                      relocations: textRelocations),
                .init(name: ".data", flags: ELF.SectionFlags.write | ELF.SectionFlags.alloc, alignment: 8, bytes: data,
                      relocations: dataRelocations),
            ],
            globals: globals)
        do {
            return try writer.bytes()
        } catch {
            throw .malformedObject(path: "the fixup object", reason: StubObjectError.writing(error).message)
        }
    }
}
