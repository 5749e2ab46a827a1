/// A ready-made `HTTPResponseError` for handlers: status, code, message and hint.
///
/// `throw HTTPError.notFound("item", id: "i42")` or
/// `throw HTTPError(.conflict, code: "item_locked", message: "…", hint: "retry when it is unlocked")`.
public struct HTTPError: HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPStatus
    public var code: String
    public var message: String
    public var hint: String?
    public var headers: HTTPHeaders

    public init(_ status: HTTPStatus, code: String, message: String, hint: String? = nil, headers: HTTPHeaders = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// 400 for a request the server cannot use.
    public static func badRequest(code: String = "bad_request", _ message: String, hint: String? = nil) -> HTTPError {
        HTTPError(.badRequest, code: code, message: message, hint: hint)
    }

    /// 404 for an unknown id of some kind of resource.
    public static func notFound(_ kind: String, id: String, hint: String? = nil) -> HTTPError {
        HTTPError(.notFound, code: "\(kind)_not_found", message: "no \(kind) with id '\(id)'", hint: hint)
    }

    /// 504 for a deferred request not answered within its `timeout`.
    public static func deferredTimeout(_ timeout: Duration) -> HTTPError {
        HTTPError(
            .gatewayTimeout,
            code: "timeout",
            message: "no answer within \(timeout)",
            hint: "the work may still finish; look it up by id"
        )
    }

    /// 503 while the server shuts down.
    public static let shuttingDown = HTTPError(
        .serviceUnavailable,
        code: "shutting_down",
        message: "the server is shutting down",
        hint: "retry once the server has restarted"
    )
}
