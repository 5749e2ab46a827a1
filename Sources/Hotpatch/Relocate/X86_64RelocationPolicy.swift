import ObjectFile

/// The relocate stage's view of the x86_64 relocation types (``ELF/X86_64Relocation``), named for
/// what it does with them. Every other type passes through untouched.
extension ELF.X86_64Relocation {
    /// `GOTPCREL` forms: the instruction loads the target's address from a GOT slot, which the
    /// relocate stage provides itself.
    static let gotLoads: Set<UInt32> = [gotpcrel, gotpcrelx, rexGotpcrelx, code4Gotpcrelx]

    /// Types that reach their target relative to the code or through a 32-bit field: a static of
    /// the executable (mapped far beyond ±2 GB of a patch library) can't be one of their targets.
    static let cannotReachExecutable: Set<UInt32> = [
        pc32, plt32, gotpcrel, abs32, abs32s, pc64, gotoff64, gotpcrelx, rexGotpcrelx, code4Gotpcrelx,
    ]

    /// Thread-local access models other than local-exec: they bind to the library's own TLS block.
    static let ownThreadLocalAccess: Set<UInt32> = [tlsgd, tlsld, gottpoff, gotpc32Tlsdesc, code4Gottpoff]
}
