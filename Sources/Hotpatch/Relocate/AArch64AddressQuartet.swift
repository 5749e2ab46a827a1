import ObjectFile

/// One absolute address built by four move-wide instructions, as LLVM's large code model emits
/// it on aarch64: `movz xN, #:abs_g0_nc:S+A`, then `movk xN` with `g1_nc`, `g2_nc` and `g3` of the
/// same symbol and addend, in program order (other instructions may sit between them).
struct AArch64AddressQuartet: Equatable {
    /// Indices into the relocation table's entries, piece 0 (the `movz`) first.
    var entries: [Int]
    /// Section offsets of the four instructions.
    var offsets: [UInt64]
    /// The register the four build.
    var register: UInt32
    var symbolIndex: UInt32
    var addend: Int64

    /// Finds every quartet in one relocation table of `image`, reading each instruction
    /// (bounds-checked) to check it is the `MOVZ`/`MOVK` its relocation implies. A piece without
    /// its quartet, a second `movz` before the `g3`, another opcode or a section without bytes
    /// throws: rewriting half an address would corrupt it, so the patch links per device instead.
    static func find(
        in table: RelocatableImage.RelocationTable, of image: RelocatableImage
    ) throws(RelocateError) -> [AArch64AddressQuartet] {
        /// What the four pieces of one address share.
        struct Key: Hashable {
            var register: UInt32
            var symbolIndex: UInt32
            var addend: Int64
        }
        let pieces = ELF.AArch64Relocation.addressQuartet
        let candidates = table.entries.indices.filter { pieces.contains(table.entries[$0].type) }
        guard !candidates.isEmpty else { return [] }
        var pending: [Key: AArch64AddressQuartet] = [:]
        var found: [AArch64AddressQuartet] = []
        // Program order: relocation tables are usually sorted by offset, but nothing requires it.
        for index in candidates.sorted(by: { (table.entries[$0].offset, $0) < (table.entries[$1].offset, $1) }) {
            let entry = table.entries[index]
            guard let piece = pieces.firstIndex(of: entry.type) else { continue }
            let instruction = try Self.instruction(at: entry.offset, in: table.target, of: image)
            guard let register = AArch64Instruction.moveWideRegister(instruction, piece: piece) else {
                throw .unexpectedInstruction(
                    path: image.path, section: table.target.name, offset: entry.offset,
                    reason: "relocation type \(entry.type) patches 0x\(String(instruction, radix: 16)), not the 64-bit \(piece == 0 ? "MOVZ" : "MOVK, lsl #\(16 * piece),") it expects")
            }
            let key = Key(register: register, symbolIndex: entry.symbolIndex, addend: entry.addend)
            if piece == 0 {
                guard pending[key] == nil else {
                    throw .unexpectedInstruction(
                        path: image.path, section: table.target.name, offset: entry.offset,
                        reason: "an address into x\(register) starts again before the previous one got its last MOVK")
                }
                pending[key] = AArch64AddressQuartet(
                    entries: [index], offsets: [entry.offset], register: register,
                    symbolIndex: entry.symbolIndex, addend: entry.addend)
                continue
            }
            guard var quartet = pending[key], quartet.entries.count == piece else {
                throw .unexpectedInstruction(
                    path: image.path, section: table.target.name, offset: entry.offset,
                    reason: "piece \(piece) of an address into x\(register) has no earlier pieces (MOVZ first, then MOVK g1, g2, g3)")
            }
            quartet.entries.append(index)
            quartet.offsets.append(entry.offset)
            if piece == pieces.count - 1 {
                found.append(quartet)
                pending[key] = nil
            } else {
                pending[key] = quartet
            }
        }
        if let unfinished = pending.values.min(by: { $0.offsets[0] < $1.offsets[0] }) {
            throw .unexpectedInstruction(
                path: image.path, section: table.target.name, offset: unfinished.offsets[0],
                reason: "an address into x\(unfinished.register) has \(unfinished.entries.count) of its 4 MOVZ/MOVK pieces")
        }
        return found
    }

    /// The little-endian instruction word at `offset` of `section`.
    static func instruction(
        at offset: UInt64, in section: ELFFile.Section, of image: RelocatableImage
    ) throws(RelocateError) -> UInt32 {
        let position = try fileOffset(of: offset, in: section, of: image)
        do {
            return try image.file.read(UInt32.self, at: position)
        } catch {
            throw .malformedObject(path: image.path, reason: error.what)
        }
    }

    /// The file offset of the 4-byte instruction at `offset` of `section`, checked to lie inside
    /// the section's bytes.
    static func fileOffset(
        of offset: UInt64, in section: ELFFile.Section, of image: RelocatableImage
    ) throws(RelocateError) -> Int {
        guard section.hasFileBytes, offset < section.size, section.size - offset >= 4, offset % 4 == 0 else {
            throw .malformedObject(
                path: image.path, reason: "an instruction relocation at \(offset) lies outside \(section.name) (\(section.size) bytes)")
        }
        let (position, overflow) = section.offset.addingReportingOverflow(offset)
        guard !overflow, let result = Int(exactly: position) else {
            throw .malformedObject(path: image.path, reason: "\(section.name) lies beyond the file")
        }
        return result
    }
}
