/// Why two objects could not be compared function by function.
public enum FunctionDiffError: HotpatchError, Equatable {
    case unreadableObject(path: String, reason: String)
    case notRelocatableELF(path: String, found: String)
    case unreadableBinary(path: String, reason: String)
    case malformedFunction(path: String, function: String, reason: String)

    public var code: String {
        switch self {
        case .unreadableObject: "unreadable_object"
        case .notRelocatableELF: "not_relocatable_elf"
        case .unreadableBinary: "unreadable_binary"
        case .malformedFunction: "malformed_function"
        }
    }

    public var message: String {
        switch self {
        case .unreadableObject(let path, let reason): "cannot read the object \(path): \(reason)"
        case .notRelocatableELF(let path, let found):
            "\(path) is \(found), not a relocatable ELF object: per-function comparison needs relocations"
        case .unreadableBinary(let path, let reason): "cannot read the binary \(path): \(reason)"
        case .malformedFunction(let path, let function, let reason): "function \(function) in \(path): \(reason)"
        }
    }

    public var hint: String? {
        switch self {
        case .unreadableObject, .malformedFunction: "rebuild the object; it may be truncated or written by an unsupported tool"
        case .notRelocatableELF: "pass two .o files (rustc --emit=obj, clang -c); linked binaries are compared by name only"
        case .unreadableBinary: "run `whisker-dev build` again; the kept fat binary may have been removed"
        }
    }
}
