import ErrorModel

/// What every error thrown by a `Hotpatch` stage can say about itself: a stable snake_case `code`
/// (the server's `{"error": {"code", "message", "hint"}}` body uses it as is), a one-line
/// `message` that names what failed, a `hint` that says how to fix it when there is one, and the
/// failed tool's output as `diagnostics` (``WhiskerError``, the model every module shares).
///
/// A pipeline stage that cannot do its work is reported as `toolFailed` unless the error says
/// otherwise: the server answers all of them 422 (the request was understood; the project or its
/// tools could not do it).
public protocol HotpatchError: WhiskerError {
    var code: String { get }
}

extension HotpatchError {
    public var identifier: String { code }
    public var errorKind: ErrorKind { .toolFailed }

    /// `message`, then the hint on its own line; what a CLI prints after `error: `.
    public var description: String {
        guard let hint, !hint.isEmpty else { return message }
        return "\(message)\nhint: \(hint)"
    }
}
