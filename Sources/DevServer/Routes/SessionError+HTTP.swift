import HTTP

extension SessionError {
    /// The one table from kinds of session failure to HTTP statuses.
    static let httpStatuses: [Code: HTTPStatus] = [
        .notFound: .notFound,
        .conflict: .conflict,
        .jobFinished: .conflict,
        .invalidInput: .badRequest,
        .forbidden: .forbidden,
        .gone: .gone,
        .pipelineFailed: .unprocessableContent,
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

    /// An `ErrorMapping` mapper for session errors; `DevServerApp` registers it.
    static let httpMapper: ErrorMapping.Mapper = { error in
        (error as? SessionError)?.httpError
    }
}
