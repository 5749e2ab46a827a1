extension ELF {
    /// AArch64 relocation types (`R_AARCH64_*`, "ELF for the Arm 64-bit Architecture" (AAELF64),
    /// LP64), the low 32 bits of `r_info`. Instruction relocations patch only the immediate of the
    /// instruction at the place (`imm26` of a branch, `immlo:immhi` of `ADR`/`ADRP`, `imm12` of a
    /// load, store or `ADD`, `imm16` of a `MOVW`); `_NC` forms skip the overflow check.
    public enum AArch64Relocation {
        /// `R_AARCH64_NONE`.
        public static let none: UInt32 = 0
        /// `R_AARCH64_NULL` (binutils' name): the withdrawn null relocation 256, treated like `NONE`.
        public static let null: UInt32 = 0x100

        // Data.
        /// `R_AARCH64_ABS64`.
        public static let abs64: UInt32 = 0x101
        /// `R_AARCH64_ABS32`.
        public static let abs32: UInt32 = 0x102
        /// `R_AARCH64_ABS16`.
        public static let abs16: UInt32 = 0x103
        /// `R_AARCH64_PREL64`.
        public static let prel64: UInt32 = 0x104
        /// `R_AARCH64_PREL32`.
        public static let prel32: UInt32 = 0x105
        /// `R_AARCH64_PREL16`.
        public static let prel16: UInt32 = 0x106

        // Static: instructions (MOVW, ADR/ADRP, loads and stores, branches) and GOT-relative data.
        /// `R_AARCH64_MOVW_UABS_G0`.
        public static let movwUabsG0: UInt32 = 0x107
        /// `R_AARCH64_MOVW_UABS_G0_NC`.
        public static let movwUabsG0Nc: UInt32 = 0x108
        /// `R_AARCH64_MOVW_UABS_G1`.
        public static let movwUabsG1: UInt32 = 0x109
        /// `R_AARCH64_MOVW_UABS_G1_NC`.
        public static let movwUabsG1Nc: UInt32 = 0x10a
        /// `R_AARCH64_MOVW_UABS_G2`.
        public static let movwUabsG2: UInt32 = 0x10b
        /// `R_AARCH64_MOVW_UABS_G2_NC`.
        public static let movwUabsG2Nc: UInt32 = 0x10c
        /// `R_AARCH64_MOVW_UABS_G3`.
        public static let movwUabsG3: UInt32 = 0x10d
        /// `R_AARCH64_MOVW_SABS_G0`.
        public static let movwSabsG0: UInt32 = 0x10e
        /// `R_AARCH64_MOVW_SABS_G1`.
        public static let movwSabsG1: UInt32 = 0x10f
        /// `R_AARCH64_MOVW_SABS_G2`.
        public static let movwSabsG2: UInt32 = 0x110
        /// `R_AARCH64_LD_PREL_LO19`.
        public static let ldPrelLo19: UInt32 = 0x111
        /// `R_AARCH64_ADR_PREL_LO21`.
        public static let adrPrelLo21: UInt32 = 0x112
        /// `R_AARCH64_ADR_PREL_PG_HI21`.
        public static let adrPrelPgHi21: UInt32 = 0x113
        /// `R_AARCH64_ADR_PREL_PG_HI21_NC`.
        public static let adrPrelPgHi21Nc: UInt32 = 0x114
        /// `R_AARCH64_ADD_ABS_LO12_NC`.
        public static let addAbsLo12Nc: UInt32 = 0x115
        /// `R_AARCH64_LDST8_ABS_LO12_NC`.
        public static let ldst8AbsLo12Nc: UInt32 = 0x116
        /// `R_AARCH64_TSTBR14`.
        public static let tstbr14: UInt32 = 0x117
        /// `R_AARCH64_CONDBR19`.
        public static let condbr19: UInt32 = 0x118
        /// `R_AARCH64_JUMP26`.
        public static let jump26: UInt32 = 0x11a
        /// `R_AARCH64_CALL26`.
        public static let call26: UInt32 = 0x11b
        /// `R_AARCH64_LDST16_ABS_LO12_NC`.
        public static let ldst16AbsLo12Nc: UInt32 = 0x11c
        /// `R_AARCH64_LDST32_ABS_LO12_NC`.
        public static let ldst32AbsLo12Nc: UInt32 = 0x11d
        /// `R_AARCH64_LDST64_ABS_LO12_NC`.
        public static let ldst64AbsLo12Nc: UInt32 = 0x11e
        /// `R_AARCH64_MOVW_PREL_G0`.
        public static let movwPrelG0: UInt32 = 0x11f
        /// `R_AARCH64_MOVW_PREL_G0_NC`.
        public static let movwPrelG0Nc: UInt32 = 0x120
        /// `R_AARCH64_MOVW_PREL_G1`.
        public static let movwPrelG1: UInt32 = 0x121
        /// `R_AARCH64_MOVW_PREL_G1_NC`.
        public static let movwPrelG1Nc: UInt32 = 0x122
        /// `R_AARCH64_MOVW_PREL_G2`.
        public static let movwPrelG2: UInt32 = 0x123
        /// `R_AARCH64_MOVW_PREL_G2_NC`.
        public static let movwPrelG2Nc: UInt32 = 0x124
        /// `R_AARCH64_MOVW_PREL_G3`.
        public static let movwPrelG3: UInt32 = 0x125
        /// `R_AARCH64_LDST128_ABS_LO12_NC`.
        public static let ldst128AbsLo12Nc: UInt32 = 0x12b
        /// `R_AARCH64_MOVW_GOTOFF_G0`.
        public static let movwGotoffG0: UInt32 = 0x12c
        /// `R_AARCH64_MOVW_GOTOFF_G0_NC`.
        public static let movwGotoffG0Nc: UInt32 = 0x12d
        /// `R_AARCH64_MOVW_GOTOFF_G1`.
        public static let movwGotoffG1: UInt32 = 0x12e
        /// `R_AARCH64_MOVW_GOTOFF_G1_NC`.
        public static let movwGotoffG1Nc: UInt32 = 0x12f
        /// `R_AARCH64_MOVW_GOTOFF_G2`.
        public static let movwGotoffG2: UInt32 = 0x130
        /// `R_AARCH64_MOVW_GOTOFF_G2_NC`.
        public static let movwGotoffG2Nc: UInt32 = 0x131
        /// `R_AARCH64_MOVW_GOTOFF_G3`.
        public static let movwGotoffG3: UInt32 = 0x132
        /// `R_AARCH64_GOTREL64`.
        public static let gotrel64: UInt32 = 0x133
        /// `R_AARCH64_GOTREL32`.
        public static let gotrel32: UInt32 = 0x134
        /// `R_AARCH64_GOT_LD_PREL19`.
        public static let gotLdPrel19: UInt32 = 0x135
        /// `R_AARCH64_LD64_GOTOFF_LO15`.
        public static let ld64GotoffLo15: UInt32 = 0x136
        /// `R_AARCH64_ADR_GOT_PAGE`.
        public static let adrGotPage: UInt32 = 0x137
        /// `R_AARCH64_LD64_GOT_LO12_NC`.
        public static let ld64GotLo12Nc: UInt32 = 0x138
        /// `R_AARCH64_LD64_GOTPAGE_LO15`.
        public static let ld64GotpageLo15: UInt32 = 0x139
        /// `R_AARCH64_PLT32`.
        public static let plt32: UInt32 = 0x13a

        // Thread-local storage.
        /// `R_AARCH64_TLSGD_ADR_PREL21`.
        public static let tlsgdAdrPrel21: UInt32 = 0x200
        /// `R_AARCH64_TLSGD_ADR_PAGE21`.
        public static let tlsgdAdrPage21: UInt32 = 0x201
        /// `R_AARCH64_TLSGD_ADD_LO12_NC`.
        public static let tlsgdAddLo12Nc: UInt32 = 0x202
        /// `R_AARCH64_TLSGD_MOVW_G1`.
        public static let tlsgdMovwG1: UInt32 = 0x203
        /// `R_AARCH64_TLSGD_MOVW_G0_NC`.
        public static let tlsgdMovwG0Nc: UInt32 = 0x204
        /// `R_AARCH64_TLSLD_ADR_PREL21`.
        public static let tlsldAdrPrel21: UInt32 = 0x205
        /// `R_AARCH64_TLSLD_ADR_PAGE21`.
        public static let tlsldAdrPage21: UInt32 = 0x206
        /// `R_AARCH64_TLSLD_ADD_LO12_NC`.
        public static let tlsldAddLo12Nc: UInt32 = 0x207
        /// `R_AARCH64_TLSLD_MOVW_G1`.
        public static let tlsldMovwG1: UInt32 = 0x208
        /// `R_AARCH64_TLSLD_MOVW_G0_NC`.
        public static let tlsldMovwG0Nc: UInt32 = 0x209
        /// `R_AARCH64_TLSLD_LD_PREL19`.
        public static let tlsldLdPrel19: UInt32 = 0x20a
        /// `R_AARCH64_TLSLD_MOVW_DTPREL_G2`.
        public static let tlsldMovwDtprelG2: UInt32 = 0x20b
        /// `R_AARCH64_TLSLD_MOVW_DTPREL_G1`.
        public static let tlsldMovwDtprelG1: UInt32 = 0x20c
        /// `R_AARCH64_TLSLD_MOVW_DTPREL_G1_NC`.
        public static let tlsldMovwDtprelG1Nc: UInt32 = 0x20d
        /// `R_AARCH64_TLSLD_MOVW_DTPREL_G0`.
        public static let tlsldMovwDtprelG0: UInt32 = 0x20e
        /// `R_AARCH64_TLSLD_MOVW_DTPREL_G0_NC`.
        public static let tlsldMovwDtprelG0Nc: UInt32 = 0x20f
        /// `R_AARCH64_TLSLD_ADD_DTPREL_HI12`.
        public static let tlsldAddDtprelHi12: UInt32 = 0x210
        /// `R_AARCH64_TLSLD_ADD_DTPREL_LO12`.
        public static let tlsldAddDtprelLo12: UInt32 = 0x211
        /// `R_AARCH64_TLSLD_ADD_DTPREL_LO12_NC`.
        public static let tlsldAddDtprelLo12Nc: UInt32 = 0x212
        /// `R_AARCH64_TLSLD_LDST8_DTPREL_LO12`.
        public static let tlsldLdst8DtprelLo12: UInt32 = 0x213
        /// `R_AARCH64_TLSLD_LDST8_DTPREL_LO12_NC`.
        public static let tlsldLdst8DtprelLo12Nc: UInt32 = 0x214
        /// `R_AARCH64_TLSLD_LDST16_DTPREL_LO12`.
        public static let tlsldLdst16DtprelLo12: UInt32 = 0x215
        /// `R_AARCH64_TLSLD_LDST16_DTPREL_LO12_NC`.
        public static let tlsldLdst16DtprelLo12Nc: UInt32 = 0x216
        /// `R_AARCH64_TLSLD_LDST32_DTPREL_LO12`.
        public static let tlsldLdst32DtprelLo12: UInt32 = 0x217
        /// `R_AARCH64_TLSLD_LDST32_DTPREL_LO12_NC`.
        public static let tlsldLdst32DtprelLo12Nc: UInt32 = 0x218
        /// `R_AARCH64_TLSLD_LDST64_DTPREL_LO12`.
        public static let tlsldLdst64DtprelLo12: UInt32 = 0x219
        /// `R_AARCH64_TLSLD_LDST64_DTPREL_LO12_NC`.
        public static let tlsldLdst64DtprelLo12Nc: UInt32 = 0x21a
        /// `R_AARCH64_TLSIE_MOVW_GOTTPREL_G1`.
        public static let tlsieMovwGottprelG1: UInt32 = 0x21b
        /// `R_AARCH64_TLSIE_MOVW_GOTTPREL_G0_NC`.
        public static let tlsieMovwGottprelG0Nc: UInt32 = 0x21c
        /// `R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21`.
        public static let tlsieAdrGottprelPage21: UInt32 = 0x21d
        /// `R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC`.
        public static let tlsieLd64GottprelLo12Nc: UInt32 = 0x21e
        /// `R_AARCH64_TLSIE_LD_GOTTPREL_PREL19`.
        public static let tlsieLdGottprelPrel19: UInt32 = 0x21f
        /// `R_AARCH64_TLSLE_MOVW_TPREL_G2`.
        public static let tlsleMovwTprelG2: UInt32 = 0x220
        /// `R_AARCH64_TLSLE_MOVW_TPREL_G1`.
        public static let tlsleMovwTprelG1: UInt32 = 0x221
        /// `R_AARCH64_TLSLE_MOVW_TPREL_G1_NC`.
        public static let tlsleMovwTprelG1Nc: UInt32 = 0x222
        /// `R_AARCH64_TLSLE_MOVW_TPREL_G0`.
        public static let tlsleMovwTprelG0: UInt32 = 0x223
        /// `R_AARCH64_TLSLE_MOVW_TPREL_G0_NC`.
        public static let tlsleMovwTprelG0Nc: UInt32 = 0x224
        /// `R_AARCH64_TLSLE_ADD_TPREL_HI12`.
        public static let tlsleAddTprelHi12: UInt32 = 0x225
        /// `R_AARCH64_TLSLE_ADD_TPREL_LO12`.
        public static let tlsleAddTprelLo12: UInt32 = 0x226
        /// `R_AARCH64_TLSLE_ADD_TPREL_LO12_NC`.
        public static let tlsleAddTprelLo12Nc: UInt32 = 0x227
        /// `R_AARCH64_TLSLE_LDST8_TPREL_LO12`.
        public static let tlsleLdst8TprelLo12: UInt32 = 0x228
        /// `R_AARCH64_TLSLE_LDST8_TPREL_LO12_NC`.
        public static let tlsleLdst8TprelLo12Nc: UInt32 = 0x229
        /// `R_AARCH64_TLSLE_LDST16_TPREL_LO12`.
        public static let tlsleLdst16TprelLo12: UInt32 = 0x22a
        /// `R_AARCH64_TLSLE_LDST16_TPREL_LO12_NC`.
        public static let tlsleLdst16TprelLo12Nc: UInt32 = 0x22b
        /// `R_AARCH64_TLSLE_LDST32_TPREL_LO12`.
        public static let tlsleLdst32TprelLo12: UInt32 = 0x22c
        /// `R_AARCH64_TLSLE_LDST32_TPREL_LO12_NC`.
        public static let tlsleLdst32TprelLo12Nc: UInt32 = 0x22d
        /// `R_AARCH64_TLSLE_LDST64_TPREL_LO12`.
        public static let tlsleLdst64TprelLo12: UInt32 = 0x22e
        /// `R_AARCH64_TLSLE_LDST64_TPREL_LO12_NC`.
        public static let tlsleLdst64TprelLo12Nc: UInt32 = 0x22f
        /// `R_AARCH64_TLSDESC_LD_PREL19`.
        public static let tlsdescLdPrel19: UInt32 = 0x230
        /// `R_AARCH64_TLSDESC_ADR_PREL21`.
        public static let tlsdescAdrPrel21: UInt32 = 0x231
        /// `R_AARCH64_TLSDESC_ADR_PAGE21`.
        public static let tlsdescAdrPage21: UInt32 = 0x232
        /// `R_AARCH64_TLSDESC_LD64_LO12`.
        public static let tlsdescLd64Lo12: UInt32 = 0x233
        /// `R_AARCH64_TLSDESC_ADD_LO12`.
        public static let tlsdescAddLo12: UInt32 = 0x234
        /// `R_AARCH64_TLSDESC_OFF_G1`.
        public static let tlsdescOffG1: UInt32 = 0x235
        /// `R_AARCH64_TLSDESC_OFF_G0_NC`.
        public static let tlsdescOffG0Nc: UInt32 = 0x236
        /// `R_AARCH64_TLSDESC_LDR`.
        public static let tlsdescLdr: UInt32 = 0x237
        /// `R_AARCH64_TLSDESC_ADD`.
        public static let tlsdescAdd: UInt32 = 0x238
        /// `R_AARCH64_TLSDESC_CALL`.
        public static let tlsdescCall: UInt32 = 0x239
        /// `R_AARCH64_TLSLE_LDST128_TPREL_LO12`.
        public static let tlsleLdst128TprelLo12: UInt32 = 0x23a
        /// `R_AARCH64_TLSLE_LDST128_TPREL_LO12_NC`.
        public static let tlsleLdst128TprelLo12Nc: UInt32 = 0x23b
        /// `R_AARCH64_TLSLD_LDST128_DTPREL_LO12`.
        public static let tlsldLdst128DtprelLo12: UInt32 = 0x23c
        /// `R_AARCH64_TLSLD_LDST128_DTPREL_LO12_NC`.
        public static let tlsldLdst128DtprelLo12Nc: UInt32 = 0x23d

        // Dynamic (in linked images).
        /// `R_AARCH64_COPY`.
        public static let copy: UInt32 = 0x400
        /// `R_AARCH64_GLOB_DAT`.
        public static let globDat: UInt32 = 0x401
        /// `R_AARCH64_JUMP_SLOT`.
        public static let jumpSlot: UInt32 = 0x402
        /// `R_AARCH64_RELATIVE`.
        public static let relative: UInt32 = 0x403
        /// `R_AARCH64_TLS_DTPMOD64`.
        public static let tlsDtpmod64: UInt32 = 0x404
        /// `R_AARCH64_TLS_DTPREL64`.
        public static let tlsDtprel64: UInt32 = 0x405
        /// `R_AARCH64_TLS_TPREL64`.
        public static let tlsTprel64: UInt32 = 0x406
        /// `R_AARCH64_TLSDESC`.
        public static let tlsdesc: UInt32 = 0x407
        /// `R_AARCH64_IRELATIVE`.
        public static let irelative: UInt32 = 0x408
    }
}
