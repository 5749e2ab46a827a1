/// The bits of a section that one relocation rewrites, so the function comparison can ignore them
/// (the linker fills them in; their value says nothing about the code until the target is known).
///
/// `width` bytes starting at the relocation offset, little-endian; `mask` has a 1 for every bit the
/// relocation may change. x86_64 fields are whole bytes; AArch64 relocations patch only an
/// instruction's immediate, so its opcode and registers stay compared.
struct RelocationField: Equatable {
    var width: Int
    var mask: UInt64
    /// Bytes the address of the PC-relative reference lies *after* the target the addend names:
    /// x86_64 puts the end of the 4-byte field into the addend (`sym - 4`), so the data referenced
    /// is at `addend + 4`. Used only to find the symbol a section-relative reference points into.
    var lookupBias: Int64 = 0

    static func bytes(_ width: Int, bias: Int64 = 0) -> RelocationField {
        RelocationField(width: width, mask: width >= 8 ? .max : (UInt64(1) << (UInt64(width) * 8)) - 1, lookupBias: bias)
    }

    static func instruction(_ mask: UInt32) -> RelocationField {
        RelocationField(width: 4, mask: UInt64(mask))
    }
}

/// The instruction sets whose relocation types ``RelocationField`` knows.
enum RelocationArchitecture: String, Sendable {
    case x86_64
    case aarch64
    /// Anything else: every relocation masks the 8 (64-bit ELF) or 4 bytes at its offset.
    case other

    init(elfMachine: UInt16) {
        switch elfMachine {
        case 62: self = .x86_64
        case 183: self = .aarch64
        default: self = .other
        }
    }

    /// What a relocation of `type` rewrites. Unknown types mask a whole word: conservative for the
    /// byte comparison (the target is still compared by name).
    func field(type: UInt32, is64: Bool) -> RelocationField {
        switch self {
        case .x86_64: X86_64Relocation.field(type)
        case .aarch64: AArch64Relocation.field(type)
        case .other: .bytes(is64 ? 8 : 4)
        }
    }
}

/// x86_64 psABI relocation types (`R_X86_64_*`).
enum X86_64Relocation {
    static let none: UInt32 = 0
    static let abs64: UInt32 = 1
    static let pc32: UInt32 = 2
    static let plt32: UInt32 = 4
    static let gotpcrel: UInt32 = 9
    static let abs32: UInt32 = 10
    static let abs32s: UInt32 = 11
    static let tlsgd: UInt32 = 19
    static let tlsld: UInt32 = 20
    static let dtpoff32: UInt32 = 21
    static let gottpoff: UInt32 = 22
    static let tpoff32: UInt32 = 23
    static let pc64: UInt32 = 24
    static let gotpc32Tlsdesc: UInt32 = 34
    static let tlsdescCall: UInt32 = 35
    static let gotpcrelx: UInt32 = 41
    static let rexGotpcrelx: UInt32 = 42
    static let code4Gotpcrelx: UInt32 = 43
    static let code4Gottpoff: UInt32 = 44
    static let code4Gotpc32Tlsdesc: UInt32 = 45

    // Dynamic relocations of linked images.
    static let globDat: UInt32 = 6
    static let jumpSlot: UInt32 = 7
    static let relative: UInt32 = 8

    static func field(_ type: UInt32) -> RelocationField {
        switch type {
        case none, tlsdescCall: .bytes(0)
        case 14: .bytes(1)  // R_X86_64_8
        case 15: .bytes(1, bias: 1)  // PC8
        case 12: .bytes(2)  // R_X86_64_16
        case 13: .bytes(2, bias: 2)  // PC16
        case abs64, 16, 17, 18, 25, 27, 30, 31, 33, 37: .bytes(8)  // 64, DTPMOD64, DTPOFF64, TPOFF64, GOTOFF64, GOT64, GOTPLT64, PLTOFF64, SIZE64, IRELATIVE
        case pc64, 28, 29: .bytes(8, bias: 8)  // PC64, GOTPCREL64, GOTPC64
        case pc32, plt32, gotpcrel, tlsgd, tlsld, gottpoff, 26, gotpc32Tlsdesc, gotpcrelx, rexGotpcrelx, code4Gotpcrelx,
            code4Gottpoff, code4Gotpc32Tlsdesc:
            .bytes(4, bias: 4)  // … GOTPC32 (26)
        case abs32, abs32s, 3, dtpoff32, tpoff32, 32: .bytes(4)  // GOT32 (3), SIZE32 (32)
        case 36: .bytes(16)  // TLSDESC
        default: .bytes(8)
        }
    }

    /// Whether the linker may rewrite the instruction around the field, not just the field
    /// (GOT-load and TLS relaxations turn `mov` into `lea`, `call *` into `call`, …): the bytes
    /// before the field differ between the object and a linked image.
    static func relaxableBytesBefore(_ type: UInt32) -> Int {
        switch type {
        case gotpcrelx, rexGotpcrelx, gottpoff: 3
        case code4Gotpcrelx, code4Gottpoff: 4
        default: 0
        }
    }
}

/// AArch64 ELF relocation types (`R_AARCH64_*`): which immediate each one patches.
enum AArch64Relocation {
    static let call26: UInt32 = 283
    static let jump26: UInt32 = 282

    static func field(_ type: UInt32) -> RelocationField {
        switch type {
        case 0, 256, 569: .bytes(0)  // NONE, NONE (old), TLSDESC_CALL
        case 257, 260: .bytes(8)  // ABS64, PREL64
        case 258, 261: .bytes(4)  // ABS32, PREL32
        case 259, 262: .bytes(2)  // ABS16, PREL16
        case jump26, call26: .instruction(0x03FF_FFFF)  // imm26
        case 273, 280, 309, 543, 560: .instruction(0x00FF_FFE0)  // imm19: LD_PREL_LO19, CONDBR19, GOT_LD_PREL19, …
        case 279: .instruction(0x0007_FFE0)  // imm14: TSTBR14
        case 274, 275, 276, 311, 512, 513, 517, 518, 541, 561, 562: .instruction(0x60FF_FFE0)  // ADR/ADRP immlo+immhi
        case 263...272, 287...293, 300...306: .instruction(0x401F_FFE0)  // MOVW imm16 (+ MOVN/MOVZ bit)
        case 277, 278, 284, 285, 286, 299, 312, 313, 514, 519, 542, 550, 551, 563, 564: .instruction(0x003F_FC00)  // imm12 (LO12)
        default: .bytes(4)  // other instruction relocations: the whole instruction
        }
    }
}
