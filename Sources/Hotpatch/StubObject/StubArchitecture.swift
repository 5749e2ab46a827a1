import ObjectFile

/// The instruction sets the stub object can be written for, with their trampoline encodings.
public enum StubArchitecture: String, Sendable, Hashable, CaseIterable {
    case x86_64
    case aarch64

    /// The architecture of a target triple (`x86_64-unknown-linux-gnu`, `aarch64-linux-android`,
    /// `arm64-apple-ios`), or nil for one the stub can't be written for.
    public init?(triple: String) {
        let arch = triple.split(separator: "-", maxSplits: 1).first.map(String.init) ?? triple
        switch arch {
        case "x86_64", "amd64": self = .x86_64
        case "aarch64", "arm64": self = .aarch64
        default: return nil
        }
    }

    /// The architecture this code was compiled for, or nil on any other host.
    public static var host: StubArchitecture? {
        #if arch(x86_64)
            return .x86_64
        #elseif arch(arm64)
            return .aarch64
        #else
            return nil
        #endif
    }

    /// ELF `e_machine`.
    var elfMachine: UInt16 {
        switch self {
        case .x86_64: ELF.Machine.x86_64
        case .aarch64: ELF.Machine.aarch64
        }
    }

    /// Distance between trampolines; a multiple of 8 keeps every embedded address 8-aligned.
    static let trampolineStride: UInt64 = 16

    /// Bytes of one trampoline that carry meaning (its symbol's size); the rest is padding.
    var trampolineSize: UInt64 {
        switch self {
        case .x86_64: 14
        case .aarch64: 16
        }
    }

    /// One trampoline that jumps to `target`, padded to ``trampolineStride``.
    ///
    /// Both load the target from a literal right after the jump, so the trampoline reaches any
    /// address (a patch library is mapped far beyond ±2 GB of the executable) and no relocation
    /// is needed: the address is final.
    /// - x86_64: `jmp *0(%rip)` (`ff 25 00 00 00 00`), the 8-byte address, `int3` padding. It
    ///   clobbers no register, so it is transparent to every calling convention.
    /// - aarch64: `ldr x16, #8; br x16; .quad target`. x16 (IP0) is the register the ABI gives
    ///   veneers and PLT stubs for exactly this.
    func trampoline(to target: UInt64) -> [UInt8] {
        var writer = StubByteWriter()
        switch self {
        case .x86_64:
            writer.append(bytes: [0xff, 0x25, 0x00, 0x00, 0x00, 0x00])
            writer.append(target)
            writer.append(bytes: [0xcc, 0xcc])
        case .aarch64:
            writer.append(UInt32(0x5800_0050))  // ldr x16, #8
            writer.append(UInt32(0xd61f_0200))  // br x16
            writer.append(target)
        }
        return writer.bytes
    }
}
