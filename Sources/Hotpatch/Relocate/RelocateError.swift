/// Why the patch object could not be rewritten to use the running executable's statics.
public enum RelocateError: HotpatchError, Equatable {
    /// Not an x86_64 or aarch64 little-endian ELF relocatable object.
    case unsupportedObject(path: String, found: String)
    /// A table or record of the object doesn't fit the file or its own format.
    case malformedObject(path: String, reason: String)
    /// The edit added a thread-local the executable doesn't have: a patch library can't host one.
    case newThreadLocal(name: String, path: String)
    /// A thread-local's offset from the thread pointer doesn't fit the instruction (32 bits on
    /// x86_64; 24 bits, non-negative, in aarch64's two `add` immediates).
    case threadLocalOutOfRange(name: String, offset: Int64)
    case writeFailed(path: String, reason: String)
    /// A reference to the executable that no slide-independent form can express (a 32-bit or
    /// PC-relative access to its data, or a thread-local access model other than local-exec).
    case unreachableStatic(name: String, relocationType: UInt32, path: String)
    /// A relocated instruction isn't the one its relocation type implies (aarch64: a `MOVZ`/`MOVK`
    /// quartet with a piece missing, another opcode or register), so it can't be rewritten safely.
    case unexpectedInstruction(path: String, section: String, offset: UInt64, reason: String)

    public var code: String {
        switch self {
        case .unsupportedObject: "relocate_unsupported_object"
        case .malformedObject: "relocate_malformed_object"
        case .newThreadLocal: "new_thread_local"
        case .threadLocalOutOfRange: "thread_local_out_of_range"
        case .writeFailed: "relocate_write_failed"
        case .unreachableStatic: "relocate_unreachable_symbol"
        case .unexpectedInstruction: "relocate_unexpected_instruction"
        }
    }

    public var message: String {
        switch self {
        case .unsupportedObject(let path, let found):
            "cannot redirect the statics of \(path): it is \(found), not an x86_64 or aarch64 ELF relocatable object"
        case .malformedObject(let path, let reason): "cannot redirect the statics of \(path): \(reason)"
        case .newThreadLocal(let name, let path):
            "the edit adds the thread-local \(RustDemangler.demangle(name) ?? name) (\(path)), which the running executable doesn't have; a patch can't add thread-locals to a running process"
        case .threadLocalOutOfRange(let name, let offset):
            "the thread-local \(RustDemangler.demangle(name) ?? name) lies \(offset) bytes from the thread pointer, beyond what a local-exec instruction holds (32 bits on x86_64, 24 on aarch64)"
        case .writeFailed(let path, let reason): "cannot write the relocated object \(path): \(reason)"
        case .unreachableStatic(let name, let type, let path):
            "\(path) reaches the executable's \(RustDemangler.demangle(name) ?? name) through relocation type \(type), which a library loaded anywhere can't express"
        case .unexpectedInstruction(let path, let section, let offset, let reason):
            "cannot make \(path) slide-independent: at \(section)+0x\(String(offset, radix: 16)), \(reason)"
        }
    }

    public var hint: String? {
        switch self {
        case .unsupportedObject: "statics keep their state and one library serves every device only on x86_64 Linux (glibc) and aarch64 Linux and Android; elsewhere each device gets its own link"
        case .malformedObject: "rebuild the patch; the object may be truncated or written by an unsupported tool"
        case .newThreadLocal: "keep the thread-local out of this edit, or rebuild (`whisker-dev build`) and restart the app"
        case .threadLocalOutOfRange: "report this with the executable attached"
        case .writeFailed: "check that the patch directory exists and is writable"
        case .unreachableStatic: "the patch falls back to a library linked per device; report this with the object attached"
        case .unexpectedInstruction: "the patch falls back to a library linked per device; report this with the object and the rustc version attached"
        }
    }
}
