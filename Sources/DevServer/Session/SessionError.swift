import ErrorModel
import Hotpatch

/// Why the session refused or could not do what it was asked.
///
/// Shaped like swift-subprocess's `SubprocessError`: a `code` of an extensible struct type says
/// what kind of failure it is (callers decide with `==`, so a new code breaks no `switch`), and
/// the rest says which one and for whom. `identifier` is the stable snake_case name clients
/// switch on (`build_not_found`, `job_finished`; the API's `error.code`); one table in the routes
/// turns `code` into an HTTP status.
public struct SessionError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public let code: Code
    /// The stable snake_case name of this failure, e.g. `"device_not_found"`.
    public let identifier: String
    /// What went wrong, for a human; one line.
    public let message: String
    /// How to fix it, when there is something the caller can do.
    public let hint: String?
    /// The output of the tool that failed (rustc, cargo, the linker), when that is what failed.
    public let diagnostics: String?
    /// The error this one reports, when it comes from below the session (the pipeline).
    public let underlyingError: (any Error)?

    public init(
        _ code: Code, _ identifier: String, _ message: String, hint: String? = nil, diagnostics: String? = nil,
        underlyingError: (any Error)? = nil
    ) {
        self.code = code
        self.identifier = identifier
        self.message = message
        self.hint = hint
        self.diagnostics = diagnostics
        self.underlyingError = underlyingError
    }

    public var description: String {
        if code == .internalError, let underlyingError { return String(describing: underlyingError) }
        return "\(identifier): \(message)"
    }
}

// MARK: - Codes

extension SessionError {
    /// The kind of a failure, which decides how a transport reports it: the model every module
    /// shares (``ErrorKind``), so a module's error keeps its kind through the session.
    public typealias Code = ErrorKind
}

// MARK: - Making them

extension SessionError {
    /// An unknown id of some kind of resource: `build_not_found`, "no build with id '…'".
    static func notFound(_ kind: String, id: String, hint: String? = nil) -> SessionError {
        SessionError(.notFound, "\(kind)_not_found", "no \(kind) with id '\(id)'", hint: hint)
    }

    static func conflict(_ identifier: String, _ message: String, hint: String? = nil) -> SessionError {
        SessionError(.conflict, identifier, message, hint: hint)
    }

    /// A cancel of a job that has already ended.
    static func jobFinished(_ kind: String, id: String, state: JobState) -> SessionError {
        SessionError(.jobFinished, "job_finished", "\(kind) \(id) is already \(state.rawValue)")
    }

    static let shuttingDown = SessionError(
        .shuttingDown, "shutting_down", "the server is shutting down", hint: "retry once the server has restarted")

    /// `error` as the session reports it: its own errors unchanged, every module's
    /// (``WhiskerError``: the pipeline's, an unreadable binary's) with its kind, identifier and
    /// the tool's output as `diagnostics`; anything else as an `internalError`.
    init(wrapping error: any Error) {
        if let error = error as? SessionError {
            self = error
        } else if let error = error as? any WhiskerError {
            var message = error.message
            var diagnostics = error.diagnostics
            if diagnostics == nil, let newline = message.firstIndex(of: "\n") {
                // An error from outside the model that put the tool's output after its first line.
                diagnostics = String(message[message.index(after: newline)...])
                message = String(message[..<newline])
            }
            self.init(error.errorKind, error.identifier, message, hint: error.hint,
                      diagnostics: diagnostics, underlyingError: error)
        } else {
            self.init(.internalError, "internal_error", String(describing: error), underlyingError: error)
        }
    }

    /// Runs `body`, reporting whatever it throws as a `SessionError`.
    static func wrapping<Result>(_ body: () throws -> Result) throws(SessionError) -> Result {
        do {
            return try body()
        } catch {
            throw SessionError(wrapping: error)
        }
    }
}

extension SessionError: WhiskerError {
    public var errorKind: ErrorKind { code }
}
