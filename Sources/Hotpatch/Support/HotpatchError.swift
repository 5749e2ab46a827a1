/// What every error thrown by a `Hotpatch` stage can say about itself: a stable snake_case `code`
/// (the server's `{"error": {"code", "message", "hint"}}` body uses it as is), a `message` that names
/// what failed, and a `hint` that says how to fix it when there is one.
public protocol HotpatchError: Error, CustomStringConvertible, Sendable {
    var code: String { get }
    var message: String { get }
    var hint: String? { get }
}

extension HotpatchError {
    /// `message`, then the hint on its own line; what a CLI prints after `error: `.
    public var description: String {
        guard let hint, !hint.isEmpty else { return message }
        return "\(message)\nhint: \(hint)"
    }
}
