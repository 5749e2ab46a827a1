import ObjectFile

/// Writes a ``FixupTable`` as an x86_64 ELF relocatable object (through ObjectFile's `ELFRelocatableWriter`):
/// `.text` with the trampolines, `.data` with the slots, their relocations, and `main` as the one
/// undefined symbol.
///
/// Slot and trampoline symbols are GLOBAL + STV_HIDDEN: the rewritten patch objects reference
/// them by name, and the library never exports them.
struct FixupObject {
    static let anchorSymbol = "main"
    private static let textSection = ELFRelocatableWriter.firstContentSectionIndex
    private static let dataSection = textSection + 1

    let table: FixupTable

    func bytes() throws(RelocateError) -> [UInt8] {
        var text: [UInt8] = []
        var textRelocations: [ELFRelocatableWriter.Relocation] = []
        var globals: [ELFRelocatableWriter.Symbol] = []
        for trampoline in table.trampolines {
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
                dataRelocations.append(.init(offset: UInt64(data.count), symbol: Self.anchorSymbol, type: ELF.X86_64Relocation.abs64, addend: delta))
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
            machine: ELF.Machine.x86_64,
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
