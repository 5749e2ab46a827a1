/// The A64 instruction encodings the aarch64 slide-independent rewrite reads and writes (Arm
/// ARM, "A64 instruction set encoding"): the `MOVZ`/`MOVK` that build an absolute address, and
/// the `ADRP`, `LDR`, `ADD`, `BR` and `NOP` that replace them. Pure functions of the 32-bit word,
/// so every rewrite is checked against hand-assembled encodings in the tests.
enum AArch64Instruction {
    /// `nop`.
    static let nop: UInt32 = 0xd503_201f
    /// `br x16`.
    static let branchX16: UInt32 = 0xd61f_0200
    /// `brk #0`: padding that traps if ever reached.
    static let breakpoint: UInt32 = 0xd420_0000
    /// The register the trampolines use: x16 (IP0), which the AAPCS64 leaves to veneers.
    static let scratchRegister: UInt32 = 16

    /// `adrp xN, 0` (the page comes from the relocation).
    static func adrp(_ register: UInt32) -> UInt32 { 0x9000_0000 | (register & 0x1f) }

    /// `ldr xN, [xM, #0]` (64-bit load, unsigned offset; the offset comes from the relocation).
    static func load64(_ register: UInt32, base: UInt32) -> UInt32 {
        0xf940_0000 | (base & 0x1f) << 5 | (register & 0x1f)
    }

    /// `add xN, xM, #imm12` (64-bit, unshifted).
    static func add(_ register: UInt32, base: UInt32, immediate: UInt32 = 0) -> UInt32 {
        0x9100_0000 | (immediate & 0xfff) << 10 | (base & 0x1f) << 5 | (register & 0x1f)
    }

    /// The destination register of a 64-bit move-wide that fills 16-bit piece `piece` (0–3) of
    /// an address: piece 0 a `MOVZ xN, #imm` (hw = 0), pieces 1–3 a `MOVK xN, #imm, lsl #16·piece`.
    /// Nil for anything else (another opcode, a 32-bit form, the wrong shift).
    static func moveWideRegister(_ instruction: UInt32, piece: Int) -> UInt32? {
        guard (0...3).contains(piece) else { return nil }
        let opcode: UInt32 = piece == 0 ? 0xd280_0000 : 0xf280_0000
        // sf, opc, the move-wide class and hw: bits 31–21.
        guard instruction & 0xffe0_0000 == opcode | UInt32(piece) << 21 else { return nil }
        return instruction & 0x1f
    }

    /// `instruction`, a 64-bit `ADD (immediate)` — shifted by 12 (`lsl #12`) when `shifted` —
    /// with its 12-bit immediate set to `immediate`. Nil when it is another instruction or the
    /// value doesn't fit 12 bits (the place a local-exec `TPREL_HI12`/`LO12` relocation patches).
    static func settingAddImmediate(_ instruction: UInt32, to immediate: UInt32, shifted: Bool) -> UInt32? {
        // sf, op, S, the add/sub-immediate class and sh: bits 31–22.
        guard instruction & 0xffc0_0000 == (shifted ? 0x9140_0000 : 0x9100_0000), immediate <= 0xfff else { return nil }
        return instruction & ~(0xfff << 10) | immediate << 10
    }

    /// A trampoline through an address slot: `adrp x16, slot; ldr x16, [x16, #:lo12:slot];
    /// br x16; brk #0` (16 bytes, little-endian). The `adrp` takes an `ADR_PREL_PG_HI21` and the
    /// `ldr` an `LDST64_ABS_LO12_NC` against the slot, at byte offsets 0 and 4.
    static let trampoline: [UInt8] = {
        let words = [adrp(scratchRegister), load64(scratchRegister, base: scratchRegister), branchX16, breakpoint]
        return words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    }()
}
