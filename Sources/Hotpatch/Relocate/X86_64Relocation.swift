/// The relocate stage's view of the x86_64 relocation types (System V x86_64 psABI, table 4.9),
/// named for what it does with them. Every other type passes through untouched.
extension X86_64Relocation {
    static let gotOff64: UInt32 = 25

    /// `GOTPCREL` forms: the instruction loads the target's address from a GOT slot, which the
    /// relocate stage provides itself.
    static let gotLoads: Set<UInt32> = [gotpcrel, gotpcrelx, rexGotpcrelx, code4Gotpcrelx]

    /// Types that reach their target relative to the code or through a 32-bit field: a static of
    /// the executable (mapped far beyond ±2 GB of a patch library) can't be one of their targets.
    static let cannotReachExecutable: Set<UInt32> = [
        pc32, plt32, gotpcrel, abs32, abs32s, pc64, gotOff64, gotpcrelx, rexGotpcrelx, code4Gotpcrelx,
    ]

    /// Thread-local access models other than local-exec: they bind to the library's own TLS block.
    static let ownThreadLocalAccess: Set<UInt32> = [tlsgd, tlsld, gottpoff, gotpc32Tlsdesc, code4Gottpoff]
}

/// ELF numbers the relocate stage needs beyond what `ObjectFile` exposes.
enum ELFNumbers {
    static let machineX86_64: UInt16 = 62
    static let sectionSymtabShndx: UInt32 = 18
    static let flagWrite: UInt64 = 0x1
    static let flagAlloc: UInt64 = 0x2
    static let flagTLS: UInt64 = 0x400
    static let symbolSize = 24
    static let relaSize = 24
    static let sectionHeaderSize = 64
}
