import ErrorModel
import HTTP

extension SessionError {
    /// The one table from kinds of failure (every module's, ``ErrorKind``) to HTTP statuses: what
    /// the project or its tools could not do (a compile error, a truncated binary, a missing
    /// toolchain) is 422, the caller's request that cannot be right is 4xx, only a bug is a 500.
    static let httpStatuses: [ErrorKind: HTTPStatus] = [
        .notFound: .notFound,
        .conflict: .conflict,
        .jobFinished: .conflict,
        .invalidInput: .badRequest,
        .forbidden: .forbidden,
        .gone: .gone,
        .toolFailed: .unprocessableContent,
        .unreadableInput: .unprocessableContent,
        .environment: .unprocessableContent,
        .unsupported: .unprocessableContent,
        .shuttingDown: .serviceUnavailable,
        .internalError: .internalServerError,
    ]

    /// The error's HTTP form: its status from ``httpStatuses``, `identifier` as the body's `code`,
    /// the tool's output (if any) after the message's first line as the pipeline wrote it.
    var httpError: HTTPError {
        var hint = hint
        if code == .internalError, hint == nil { hint = "this is a bug in whisker-dev; the server log has details" }
        return HTTPError(
            Self.httpStatuses[code] ?? .internalServerError, code: identifier,
            message: message + (diagnostics.map { "\n\($0)" } ?? ""), hint: hint)
    }

    /// An `ErrorMapping` mapper for session errors and every module's (``WhiskerError``) that a
    /// route let through unwrapped, through the same table; `DevServerApp` registers it. The
    /// transport's own errors keep the status they carry.
    static let httpMapper: ErrorMapping.Mapper = { error in
        if let error = error as? SessionError { return error.httpError }
        if error is any HTTPResponseError { return nil }
        guard error is any WhiskerError else { return nil }
        return SessionError(wrapping: error).httpError
    }
}
