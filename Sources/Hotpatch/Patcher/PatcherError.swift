/// Why a patch could not be made, beyond the stages' own errors.
public enum PatcherError: HotpatchError {
    case anchorMissing(binary: String)
    case libraryUnreadable(path: String, reason: String)

    public var code: String {
        switch self {
        case .anchorMissing: "anchor_symbol_missing"
        case .libraryUnreadable: "patch_library_unreadable"
        }
    }

    public var message: String {
        switch self {
        case .anchorMissing(let binary): "the fat binary \(binary) defines no 'main' symbol to compute the ASLR slide from"
        case .libraryUnreadable(let path, let reason): "cannot read the linked patch library \(path): \(reason)"
        }
    }

    public var hint: String? {
        switch self {
        case .anchorMissing: "build a binary crate (not a library) with `whisker-dev build`"
        case .libraryUnreadable: "check the linker output above; the link may have produced no file"
        }
    }
}
