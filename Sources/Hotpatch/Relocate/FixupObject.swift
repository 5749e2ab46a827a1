/// Writes a ``FixupTable`` as an x86_64 ELF relocatable object: `.text` with the trampolines,
/// `.data` with the slots, their `.rela` sections, and `main` as the one undefined symbol.
///
/// Slot and trampoline symbols are GLOBAL + STV_HIDDEN: the rewritten patch objects reference
/// them by name, and the library never exports them.
struct FixupObject {
    static let anchorSymbol = "main"

    let table: FixupTable

    private static let trampolineSize = 8  // ff 25 <rel32>, padded with int3
    private static let symbolSize = 24
    private static let relaSize = 24
    private static let sectionHeaderSize = 64

    func bytes() throws(RelocateError) -> [UInt8] {
        // Section indices: 1 .text, 2 .rela.text, 3 .data, 4 .rela.data, 5 .note.GNU-stack,
        // 6 .symtab, 7 .strtab, 8 .shstrtab.
        var strings: [UInt8] = [0]
        func addString(_ text: String) -> UInt32 {
            let offset = UInt32(strings.count)
            strings += Array(text.utf8) + [0]
            return offset
        }

        // Symbols: null, two section symbols (locals), then globals: slots, trampolines, main.
        var globals: [(name: UInt32, info: UInt8, other: UInt8, section: UInt16, value: UInt64, size: UInt64)] = []
        var symbolIndex: [String: UInt32] = [:]
        let firstGlobal = 3
        for (position, slot) in table.slots.enumerated() {
            guard let name = table.slotName(slot) else { continue }
            symbolIndex[name] = UInt32(firstGlobal + globals.count)
            globals.append((addString(name), 1 << 4 | 1, 2, 3, UInt64(position * 8), 8))  // GLOBAL OBJECT, hidden
        }
        for (position, trampoline) in table.trampolines.enumerated() {
            symbolIndex[trampoline.name] = UInt32(firstGlobal + globals.count)
            globals.append((addString(trampoline.name), 1 << 4 | 2, 2, 1, UInt64(position * Self.trampolineSize), 6))
        }
        let anchorIndex = UInt32(firstGlobal + globals.count)
        globals.append((addString(Self.anchorSymbol), 1 << 4 | 0, 0, 0, 0, 0))  // GLOBAL NOTYPE UNDEF

        var text: [UInt8] = []
        var textRelocations: [UInt8] = []
        for trampoline in table.trampolines {
            let site = UInt64(text.count + 2)
            text += [0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc]
            guard let slot = symbolIndex[trampoline.slot] else {
                throw .malformedObject(path: "fixups", reason: "trampoline \(trampoline.name) has no slot")
            }
            Self.appendRela(&textRelocations, offset: site, symbol: slot, type: X86_64Relocation.pc32, addend: -4)
        }
        var data: [UInt8] = []
        var dataRelocations: [UInt8] = []
        for slot in table.slots {
            switch slot {
            case .address(let delta):
                Self.appendRela(&dataRelocations, offset: UInt64(data.count), symbol: anchorIndex,
                                type: X86_64Relocation.abs64, addend: delta)
                Self.append(UInt64(0), to: &data)
            case .threadPointerOffset(let offset):
                Self.append(UInt64(bitPattern: offset), to: &data)
            }
        }

        var sectionNames: [UInt8] = [0]
        func addSectionName(_ text: String) -> UInt32 {
            let offset = UInt32(sectionNames.count)
            sectionNames += Array(text.utf8) + [0]
            return offset
        }

        var out = [UInt8](repeating: 0, count: 64)
        func place(_ bytes: [UInt8], alignment: Int) -> Int {
            while out.count % alignment != 0 { out.append(0) }
            let offset = out.count
            out += bytes
            return offset
        }
        let textOffset = place(text, alignment: 16)
        let textRelaOffset = place(textRelocations, alignment: 8)
        let dataOffset = place(data, alignment: 8)
        let dataRelaOffset = place(dataRelocations, alignment: 8)
        var symbols = [UInt8](repeating: 0, count: Self.symbolSize)
        Self.appendSymbol(&symbols, name: 0, info: 3, other: 0, section: 1, value: 0, size: 0)  // .text
        Self.appendSymbol(&symbols, name: 0, info: 3, other: 0, section: 3, value: 0, size: 0)  // .data
        for global in globals {
            Self.appendSymbol(&symbols, name: global.name, info: global.info, other: global.other,
                              section: global.section, value: global.value, size: global.size)
        }
        let symtabOffset = place(symbols, alignment: 8)
        let strtabOffset = place(strings, alignment: 1)
        let names = (
            text: addSectionName(".text"), relaText: addSectionName(".rela.text"),
            data: addSectionName(".data"), relaData: addSectionName(".rela.data"),
            note: addSectionName(".note.GNU-stack"), symtab: addSectionName(".symtab"),
            strtab: addSectionName(".strtab"), shstrtab: addSectionName(".shstrtab"))
        let shstrtabOffset = place(sectionNames, alignment: 1)

        var headers = [UInt8](repeating: 0, count: Self.sectionHeaderSize)
        func header(_ name: UInt32, type: UInt32, flags: UInt64, offset: Int, size: Int, link: UInt32 = 0,
                    info: UInt32 = 0, alignment: UInt64, entrySize: UInt64 = 0) {
            Self.append(name, to: &headers)
            Self.append(type, to: &headers)
            Self.append(flags, to: &headers)
            Self.append(UInt64(0), to: &headers)
            Self.append(UInt64(offset), to: &headers)
            Self.append(UInt64(size), to: &headers)
            Self.append(link, to: &headers)
            Self.append(info, to: &headers)
            Self.append(alignment, to: &headers)
            Self.append(entrySize, to: &headers)
        }
        header(names.text, type: 1, flags: 0x6, offset: textOffset, size: text.count, alignment: 16)
        header(names.relaText, type: 4, flags: 0x40, offset: textRelaOffset, size: textRelocations.count,
               link: 6, info: 1, alignment: 8, entrySize: UInt64(Self.relaSize))
        header(names.data, type: 1, flags: 0x3, offset: dataOffset, size: data.count, alignment: 8)
        header(names.relaData, type: 4, flags: 0x40, offset: dataRelaOffset, size: dataRelocations.count,
               link: 6, info: 3, alignment: 8, entrySize: UInt64(Self.relaSize))
        header(names.note, type: 1, flags: 0, offset: shstrtabOffset, size: 0, alignment: 1)
        header(names.symtab, type: 2, flags: 0, offset: symtabOffset, size: symbols.count, link: 7,
               info: UInt32(firstGlobal), alignment: 8, entrySize: UInt64(Self.symbolSize))
        header(names.strtab, type: 3, flags: 0, offset: strtabOffset, size: strings.count, alignment: 1)
        header(names.shstrtab, type: 3, flags: 0, offset: shstrtabOffset, size: sectionNames.count, alignment: 1)
        let headersOffset = place(headers, alignment: 8)

        // ELF header.
        var elf: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        Self.append(UInt16(1), to: &elf)  // ET_REL
        Self.append(UInt16(ELFNumbers.machineX86_64), to: &elf)
        Self.append(UInt32(1), to: &elf)
        Self.append(UInt64(0), to: &elf)  // entry
        Self.append(UInt64(0), to: &elf)  // phoff
        Self.append(UInt64(headersOffset), to: &elf)
        Self.append(UInt32(0), to: &elf)  // flags
        Self.append(UInt16(64), to: &elf)
        Self.append(UInt16(0), to: &elf)
        Self.append(UInt16(0), to: &elf)
        Self.append(UInt16(Self.sectionHeaderSize), to: &elf)
        Self.append(UInt16(9), to: &elf)  // section count
        Self.append(UInt16(8), to: &elf)  // .shstrtab index
        out.replaceSubrange(0..<64, with: elf)
        return out
    }

    private static func appendRela(_ bytes: inout [UInt8], offset: UInt64, symbol: UInt32, type: UInt32, addend: Int64) {
        append(offset, to: &bytes)
        append(UInt64(symbol) << 32 | UInt64(type), to: &bytes)
        append(UInt64(bitPattern: addend), to: &bytes)
    }

    private static func appendSymbol(
        _ bytes: inout [UInt8], name: UInt32, info: UInt8, other: UInt8, section: UInt16, value: UInt64, size: UInt64
    ) {
        append(name, to: &bytes)
        bytes.append(info)
        bytes.append(other)
        append(section, to: &bytes)
        append(value, to: &bytes)
        append(size, to: &bytes)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        for index in 0..<(T.bitWidth / 8) { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }
}
