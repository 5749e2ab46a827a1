import ObjectFile

/// The relocate stage's view of the aarch64 relocation types (``ELF/AArch64Relocation``), named
/// for what it does with them (see ``AArch64SlideIndependentObject``).
extension ELF.AArch64Relocation {
    /// The four pieces of an absolute address in the large code model, in program order:
    /// `movz xN, #:abs_g0_nc:` then `movk` `g1_nc`, `g2_nc`, `g3`.
    static let addressQuartet: [UInt32] = [movwUabsG0Nc, movwUabsG1Nc, movwUabsG2Nc, movwUabsG3]

    /// Direct branches (`bl`, `b`): to an executable function they go through a trampoline.
    static let branches: Set<UInt32> = [call26, jump26]

    /// Local-exec `ADD` immediates: the executable's thread-pointer offset is written into them.
    static let localExecAdd: Set<UInt32> = [tlsleAddTprelHi12, tlsleAddTprelLo12, tlsleAddTprelLo12Nc]

    /// Initial-exec: `adrp` + `ldr` of the thread-local's offset from a GOT entry, which the
    /// relocate stage provides itself (a thread-pointer slot).
    static let initialExec: Set<UInt32> = [tlsieAdrGottprelPage21, tlsieLd64GottprelLo12Nc]

    /// GOT loads (`adrp` + `ldr` of an address): for an executable symbol, from an address slot.
    static let gotLoads: Set<UInt32> = [adrGotPage, ld64GotLo12Nc]

    /// Types whose only slide-independent form is a rewrite this stage doesn't make: absolute
    /// instruction immediates (other `MOVW` forms and local-exec loads and stores). A library
    /// can't be linked with them.
    static let absoluteInstructions: Set<UInt32> = Set((movwUabsG0...movwSabsG2).filter { type in !addressQuartet.contains(type) })
        .union([tlsleMovwTprelG2, tlsleMovwTprelG1, tlsleMovwTprelG1Nc, tlsleMovwTprelG0, tlsleMovwTprelG0Nc])
        .union(Set(tlsleLdst8TprelLo12...tlsleLdst64TprelLo12Nc))
        .union([tlsleLdst128TprelLo12, tlsleLdst128TprelLo12Nc])

    /// Types that reach their target PC-relative (±4 GB at most) or through a 32- or 16-bit
    /// field: a static of the executable, mapped anywhere, can't be one of their targets.
    static let cannotReachExecutable: Set<UInt32> = Set([
        abs32, abs16, prel64, prel32, prel16, ldPrelLo19, adrPrelLo21, adrPrelPgHi21, adrPrelPgHi21Nc, addAbsLo12Nc,
        ldst8AbsLo12Nc, ldst16AbsLo12Nc, ldst32AbsLo12Nc, ldst64AbsLo12Nc, ldst128AbsLo12Nc, tstbr14, condbr19,
    ]).union(Set(movwPrelG0...movwPrelG3))

    /// Thread-local access models that bind to a library's own TLS block (general and local
    /// dynamic, descriptors): a crate's own thread-local reached this way would be a new one.
    static let ownThreadLocalAccess: Set<UInt32> = Set(tlsgdAdrPrel21...tlsldLdPrel19)
        .union(Set(tlsdescLdPrel19...tlsdescCall))

    /// References to a writable static the object defines that would bind to the patch's own
    /// copy (a GOT entry lld fills with it, or a PC-relative reach): refused when the executable
    /// has the static, rather than silently start it fresh.
    static let reachesOnlyThePatchCopy: Set<UInt32> = cannotReachExecutable.union(gotLoads)

    /// Thread-local models other than local-exec, for the object's own thread-locals.
    static let otherThreadLocalModels: Set<UInt32> = ownThreadLocalAccess.union(initialExec)
}
