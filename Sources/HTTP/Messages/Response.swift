/// What a handler returns: status, headers and one of several kinds of body.
///
/// Most handlers return `.json(…)`. Work that cannot finish on libmicrohttpd's thread returns
/// `.deferred { responder in … }` (the connection is suspended until the answer is ready);
/// streams (SSE) return `.stream(…)`.
public struct Response: Sendable {
    /// The kinds of body the server can send.
    public enum Body: Sendable {
        case empty
        case bytes([UInt8])
        /// A file streamed from disk; a missing or unreadable file becomes a 404 at send time.
        case file(path: String)
        /// Bytes written later through a bounded queue, for as long as the stream stays open.
        case stream(ResponseStream)
        /// The answer is produced later through a `Responder`; the connection waits suspended.
        case deferred(DeferredResponse)
    }

    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: Body = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The `{"error": {…}}` response for `error`, with its status and extra headers.
    public init(error: any HTTPResponseError) {
        var headers = error.headers
        headers.set("Content-Type", MediaType.json)
        self.init(status: error.status, headers: headers, body: .bytes(error.errorBody.serialized()))
    }
}

extension Response {
    public static func json(_ value: JSONValue, status: HTTPStatus = .ok, headers: HTTPHeaders = [:]) -> Response {
        var headers = headers
        headers.set("Content-Type", MediaType.json)
        return Response(status: status, headers: headers, body: .bytes(value.serialized()))
    }

    public static func text(_ text: String, status: HTTPStatus = .ok, contentType: String = MediaType.plainText) -> Response {
        Response(status: status, headers: ["Content-Type": contentType], body: .bytes(Array(text.utf8)))
    }

    public static func bytes(_ bytes: [UInt8], contentType: String, status: HTTPStatus = .ok) -> Response {
        Response(status: status, headers: ["Content-Type": contentType], body: .bytes(bytes))
    }

    public static let noContent = Response(status: .noContent)

    public static func file(path: String, contentType: String, headers: HTTPHeaders = [:]) -> Response {
        var headers = headers
        headers.set("Content-Type", contentType)
        return Response(status: .ok, headers: headers, body: .file(path: path))
    }

    public static func stream(_ stream: ResponseStream, contentType: String, headers: HTTPHeaders = [:]) -> Response {
        var headers = headers
        headers.set("Content-Type", contentType)
        return Response(status: .ok, headers: headers, body: .stream(stream))
    }

    /// Answers later: `start` receives a `Responder` and may call it from any thread, once.
    ///
    /// The connection is suspended meanwhile, so other requests are served. Without an answer
    /// within `timeout` the client gets 504 `timeout`; at shutdown it gets 503. Long polls
    /// usually answer themselves before the timeout (e.g. an empty list after `wait` seconds).
    public static func deferred(
        timeout: Duration? = .seconds(600),
        _ start: @escaping @Sendable (Responder) -> Void
    ) -> Response {
        Response(body: .deferred(DeferredResponse(timeout: timeout, start: start)))
    }
}

/// The recipe for a deferred response; see `Response.deferred(timeout:_:)`.
public struct DeferredResponse: Sendable {
    public let timeout: Duration?
    public let start: @Sendable (Responder) -> Void
}
