/// The one shape of every error Whisker's modules throw: what kind of failure it is (which decides
/// how a transport reports it), a stable snake_case `identifier` clients switch on (the API's
/// `error.code`), a one-line `message`, a `hint` saying how to fix it, the failed tool's own
/// output as `diagnostics`, and the error underneath, if any.
///
/// Each module keeps its own error types (`ObjectFileError`, the pipeline's `HotpatchError`s,
/// the session's `SessionError`) so that callers can match on what they know; conforming here is
/// what lets one table in the server map every one of them to an HTTP status, and lets the CLI
/// print every one of them the same way.
public protocol WhiskerError: Error, Sendable, CustomStringConvertible {
    var errorKind: ErrorKind { get }
    var identifier: String { get }
    /// What went wrong, one line.
    var message: String { get }
    var hint: String? { get }
    /// The output of the tool that failed (rustc, cargo, the linker), when that is what failed.
    var diagnostics: String? { get }
    var underlyingError: (any Error)? { get }
}

extension WhiskerError {
    public var hint: String? { nil }
    public var diagnostics: String? { nil }
    public var underlyingError: (any Error)? { nil }
}
