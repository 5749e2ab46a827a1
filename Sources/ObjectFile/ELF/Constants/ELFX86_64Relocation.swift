extension ELF {
    /// x86_64 relocation types (`R_X86_64_*`, System V x86_64 psABI, table 4.9), the low 32 bits
    /// of `r_info`. In the calculations: S the symbol's value, A the addend, P the place being
    /// patched, G the GOT entry's offset, GOT the GOT's address, L the PLT entry, Z the symbol's size.
    public enum X86_64Relocation {
        /// `R_X86_64_NONE`.
        public static let none: UInt32 = 0
        /// `R_X86_64_64`: S + A, 64 bits.
        public static let abs64: UInt32 = 1
        /// `R_X86_64_PC32`: S + A − P, 32 bits signed.
        public static let pc32: UInt32 = 2
        /// `R_X86_64_GOT32`: G + A, 32 bits.
        public static let got32: UInt32 = 3
        /// `R_X86_64_PLT32`: L + A − P, 32 bits (a call or jump).
        public static let plt32: UInt32 = 4
        /// `R_X86_64_COPY` (dynamic): copy the shared object's initial value into the executable.
        public static let copy: UInt32 = 5
        /// `R_X86_64_GLOB_DAT` (dynamic): a GOT entry, S.
        public static let globDat: UInt32 = 6
        /// `R_X86_64_JUMP_SLOT` (dynamic): a PLT's GOT entry, S.
        public static let jumpSlot: UInt32 = 7
        /// `R_X86_64_RELATIVE` (dynamic): load base + A.
        public static let relative: UInt32 = 8
        /// `R_X86_64_GOTPCREL`: G + GOT + A − P, 32 bits (a load from the GOT).
        public static let gotpcrel: UInt32 = 9
        /// `R_X86_64_32`: S + A, 32 bits zero-extended.
        public static let abs32: UInt32 = 10
        /// `R_X86_64_32S`: S + A, 32 bits sign-extended.
        public static let abs32s: UInt32 = 11
        /// `R_X86_64_16`: S + A, 16 bits.
        public static let abs16: UInt32 = 12
        /// `R_X86_64_PC16`: S + A − P, 16 bits.
        public static let pc16: UInt32 = 13
        /// `R_X86_64_8`: S + A, 8 bits.
        public static let abs8: UInt32 = 14
        /// `R_X86_64_PC8`: S + A − P, 8 bits.
        public static let pc8: UInt32 = 15
        /// `R_X86_64_DTPMOD64`: the module ID of the symbol's TLS block, 64 bits.
        public static let dtpmod64: UInt32 = 16
        /// `R_X86_64_DTPOFF64`: offset in the module's TLS block, 64 bits.
        public static let dtpoff64: UInt32 = 17
        /// `R_X86_64_TPOFF64`: offset from the thread pointer, 64 bits.
        public static let tpoff64: UInt32 = 18
        /// `R_X86_64_TLSGD`: PC-relative GOT entry of a general-dynamic `tls_index`, 32 bits.
        public static let tlsgd: UInt32 = 19
        /// `R_X86_64_TLSLD`: PC-relative GOT entry of a local-dynamic `tls_index`, 32 bits.
        public static let tlsld: UInt32 = 20
        /// `R_X86_64_DTPOFF32`: offset in the module's TLS block, 32 bits.
        public static let dtpoff32: UInt32 = 21
        /// `R_X86_64_GOTTPOFF`: PC-relative GOT entry holding the thread-pointer offset (initial-exec).
        public static let gottpoff: UInt32 = 22
        /// `R_X86_64_TPOFF32`: offset from the thread pointer, 32 bits (local-exec).
        public static let tpoff32: UInt32 = 23
        /// `R_X86_64_PC64`: S + A − P, 64 bits.
        public static let pc64: UInt32 = 24
        /// `R_X86_64_GOTOFF64`: S + A − GOT, 64 bits.
        public static let gotoff64: UInt32 = 25
        /// `R_X86_64_GOTPC32`: GOT + A − P, 32 bits.
        public static let gotpc32: UInt32 = 26
        /// `R_X86_64_GOT64`: G + A, 64 bits.
        public static let got64: UInt32 = 27
        /// `R_X86_64_GOTPCREL64`: G + GOT − P + A, 64 bits.
        public static let gotpcrel64: UInt32 = 28
        /// `R_X86_64_GOTPC64`: GOT − P + A, 64 bits.
        public static let gotpc64: UInt32 = 29
        /// `R_X86_64_GOTPLT64`: like `GOT64`, and a PLT entry is needed.
        public static let gotplt64: UInt32 = 30
        /// `R_X86_64_PLTOFF64`: L − GOT + A, 64 bits.
        public static let pltoff64: UInt32 = 31
        /// `R_X86_64_SIZE32`: Z + A, 32 bits.
        public static let size32: UInt32 = 32
        /// `R_X86_64_SIZE64`: Z + A, 64 bits.
        public static let size64: UInt32 = 33
        /// `R_X86_64_GOTPC32_TLSDESC`: PC-relative GOT entry of a TLS descriptor, 32 bits.
        public static let gotpc32Tlsdesc: UInt32 = 34
        /// `R_X86_64_TLSDESC_CALL`: marks the call through a TLS descriptor (no field).
        public static let tlsdescCall: UInt32 = 35
        /// `R_X86_64_TLSDESC` (dynamic): a TLS descriptor, 128 bits.
        public static let tlsdesc: UInt32 = 36
        /// `R_X86_64_IRELATIVE` (dynamic): the result of calling the resolver at load base + A.
        public static let irelative: UInt32 = 37
        /// `R_X86_64_RELATIVE64` (dynamic): load base + A, 64 bits (ILP32).
        public static let relative64: UInt32 = 38
        /// `R_X86_64_GOTPCRELX`: `GOTPCREL` whose instruction the linker may relax (no REX prefix).
        public static let gotpcrelx: UInt32 = 41
        /// `R_X86_64_REX_GOTPCRELX`: `GOTPCREL` with a REX prefix the linker may relax.
        public static let rexGotpcrelx: UInt32 = 42
        /// `R_X86_64_CODE_4_GOTPCRELX`: relaxable `GOTPCREL` in an instruction with a REX2 prefix.
        public static let code4Gotpcrelx: UInt32 = 43
        /// `R_X86_64_CODE_4_GOTTPOFF`: `GOTTPOFF` in an instruction with a REX2 prefix.
        public static let code4Gottpoff: UInt32 = 44
        /// `R_X86_64_CODE_4_GOTPC32_TLSDESC`: `GOTPC32_TLSDESC` with a REX2 prefix.
        public static let code4Gotpc32Tlsdesc: UInt32 = 45
    }
}
