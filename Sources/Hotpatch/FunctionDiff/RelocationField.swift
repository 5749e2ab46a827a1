import ObjectFile

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
        case ELF.Machine.x86_64: self = .x86_64
        case ELF.Machine.aarch64: self = .aarch64
        default: self = .other
        }
    }

    /// What a relocation of `type` rewrites. Unknown types mask a whole word: conservative for the
    /// byte comparison (the target is still compared by name).
    func field(type: UInt32, is64: Bool) -> RelocationField {
        switch self {
        case .x86_64: ELF.X86_64Relocation.field(type)
        case .aarch64: ELF.AArch64Relocation.field(type)
        case .other: .bytes(is64 ? 8 : 4)
        }
    }
}

/// Which bytes each x86_64 relocation type (``ELF/X86_64Relocation``) rewrites: whole fields.
extension ELF.X86_64Relocation {
    static func field(_ type: UInt32) -> RelocationField {
        switch type {
        case none, tlsdescCall: .bytes(0)
        case abs8: .bytes(1)
        case pc8: .bytes(1, bias: 1)
        case abs16: .bytes(2)
        case pc16: .bytes(2, bias: 2)
        case abs64, dtpmod64, dtpoff64, tpoff64, gotoff64, got64, gotplt64, pltoff64, size64, irelative: .bytes(8)
        case pc64, gotpcrel64, gotpc64: .bytes(8, bias: 8)
        case pc32, plt32, gotpcrel, tlsgd, tlsld, gottpoff, gotpc32, gotpc32Tlsdesc, gotpcrelx, rexGotpcrelx, code4Gotpcrelx,
            code4Gottpoff, code4Gotpc32Tlsdesc:
            .bytes(4, bias: 4)
        case abs32, abs32s, got32, dtpoff32, tpoff32, size32: .bytes(4)
        case tlsdesc: .bytes(16)
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

/// Which immediate each AArch64 relocation type (``ELF/AArch64Relocation``) patches: data
/// relocations whole fields, instruction relocations only their immediate's bits.
extension ELF.AArch64Relocation {
    static func field(_ type: UInt32) -> RelocationField {
        switch type {
        case none, null, tlsdescCall: .bytes(0)
        case abs64, prel64: .bytes(8)
        case abs32, prel32: .bytes(4)
        case abs16, prel16: .bytes(2)
        case jump26, call26: .instruction(0x03FF_FFFF)  // imm26
        case ldPrelLo19, condbr19, gotLdPrel19, tlsieLdGottprelPrel19, tlsdescLdPrel19:
            .instruction(0x00FF_FFE0)  // imm19
        case tstbr14: .instruction(0x0007_FFE0)  // imm14
        case adrPrelLo21, adrPrelPgHi21, adrPrelPgHi21Nc, adrGotPage, tlsgdAdrPrel21, tlsgdAdrPage21, tlsldAdrPrel21,
            tlsldAdrPage21, tlsieAdrGottprelPage21, tlsdescAdrPrel21, tlsdescAdrPage21:
            .instruction(0x60FF_FFE0)  // ADR/ADRP immlo + immhi
        case movwUabsG0...movwSabsG2, movwPrelG0...movwPrelG3, movwGotoffG0...movwGotoffG3:
            .instruction(0x401F_FFE0)  // MOVW imm16 (+ the MOVN/MOVZ bit)
        case addAbsLo12Nc, ldst8AbsLo12Nc, ldst16AbsLo12Nc, ldst32AbsLo12Nc, ldst64AbsLo12Nc, ldst128AbsLo12Nc,
            ld64GotLo12Nc, ld64GotpageLo15, tlsgdAddLo12Nc, tlsldAddLo12Nc, tlsieLd64GottprelLo12Nc, tlsleAddTprelLo12,
            tlsleAddTprelLo12Nc, tlsdescLd64Lo12, tlsdescAddLo12:
            .instruction(0x003F_FC00)  // imm12 (LO12)
        default: .bytes(4)  // other instruction relocations: the whole instruction
        }
    }
}
