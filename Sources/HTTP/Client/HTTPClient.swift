import Foundation

/// A small blocking HTTP/1.1 client for the commands that talk to a running `whisker-dev serve`
/// (`whisker-dev logs`, `revert`, `restart`): plain `http://` (the server's only scheme), one connection per request,
/// bodies by length, chunked or until close, and a body read as it arrives for event streams.
///
/// ```swift
/// let client = try HTTPClient(baseURL: "http://127.0.0.1:9630", token: token)
/// let devices = try client.get("/api/devices").json()
/// let events = try client.openStream("/api/events")
/// while let line = try events.readLine() { … }
/// ```
public struct HTTPClient: Sendable {
    public let host: String
    public let port: UInt16
    /// Sent as `Authorization: Bearer …` (a server in LAN mode needs it).
    public let token: String?

    /// `baseURL` is `http://host[:port]` (a trailing `/` is fine; the port defaults to 80).
    public init(baseURL: String, token: String? = nil) throws(HTTPClientError) {
        guard baseURL.hasPrefix("http://") else {
            throw HTTPClientError(.badURL, "'\(baseURL)' is not an http:// URL", hint: "e.g. --server http://127.0.0.1:9630")
        }
        var authority = Substring(baseURL.dropFirst("http://".count))
        if let slash = authority.firstIndex(of: "/") { authority = authority[..<slash] }
        var host = String(authority)
        var port: UInt16 = 80
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            // [::1]:9630
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let rest = authority[authority.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let number = UInt16(rest.dropFirst()) else { throw HTTPClientError(.badURL, "bad port in '\(baseURL)'") }
                port = number
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let number = UInt16(authority[authority.index(after: colon)...]) else {
                throw HTTPClientError(.badURL, "bad port in '\(baseURL)'")
            }
            port = number
        }
        guard !host.isEmpty else { throw HTTPClientError(.badURL, "no host in '\(baseURL)'") }
        self.host = host
        self.port = port
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `GET target` (a path with its query), the whole answer.
    public func get(_ target: String, timeout: Duration = .seconds(30)) throws(HTTPClientError) -> HTTPClientResponse {
        let stream = try openStream(target, timeout: timeout)
        return HTTPClientResponse(status: stream.status, headers: stream.headers, body: try stream.readAll())
    }

    /// `text` as one segment of a request target: what would end or split it (`/ ? #`, spaces,
    /// non-ASCII) percent-encoded.
    public static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? text
    }

    /// `method target` with `body` (JSON when it is given), the whole answer.
    public func send(
        _ method: HTTPMethod, _ target: String, json body: JSONValue? = nil, timeout: Duration = .seconds(30)
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let stream = try openStream(target, method: method, body: body.map { Array($0.serialized()) }, timeout: timeout)
        return HTTPClientResponse(status: stream.status, headers: stream.headers, body: try stream.readAll())
    }

    /// `method target` (GET by default), answered as far as the headers; the body is read from the
    /// returned stream. `timeout` bounds each read (an event stream's heartbeats keep it alive).
    public func openStream(
        _ target: String, method: HTTPMethod = .get, body: [UInt8]? = nil, timeout: Duration = .seconds(60)
    ) throws(HTTPClientError) -> HTTPClientStream {
        let connection = try HTTPClientConnection(host: host, port: port, timeout: timeout)
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var head = "\(method.rawValue) \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nAccept: */*\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        } else if method != .get && method != .head {
            head += "Content-Length: 0\r\n"
        }
        head += "\r\n"
        try connection.send(Array(head.utf8) + (body ?? []))
        return try HTTPClientStream(connection: connection)
    }
}

/// A finished answer of ``HTTPClient/get(_:timeout:)``.
public struct HTTPClientResponse: Sendable {
    public let status: Int
    /// Header names in lower case.
    public let headers: [String: String]
    public let body: [UInt8]

    /// The body as JSON; a non-JSON body is an error saying what came instead.
    public func json() throws(HTTPClientError) -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch {
            let start = String(decoding: body.prefix(200), as: UTF8.self)
            throw HTTPClientError(.malformedResponse, "the server answered HTTP \(status) with no JSON: \(start)")
        }
    }

    /// The server's `{"error":{"code","message","hint"}}` (or the status) as an error.
    public func error() -> HTTPClientError {
        let error = (try? JSONValue.parse(body))?["error"]
        let message = error?["message"]?.stringValue ?? String(decoding: body.prefix(200), as: UTF8.self)
        let code = error?["code"]?.stringValue
        return HTTPClientError(
            .status(status), "the server answered HTTP \(status)\(code.map { " \($0)" } ?? ""): \(message)",
            hint: error?["hint"]?.stringValue ?? (status == 401 ? "set WHISKER_DEV_TOKEN (or --token) to the token serve printed" : nil))
    }
}

/// An answer whose body is read as it arrives: lines of an event stream, or all of it.
public final class HTTPClientStream {
    public let status: Int
    /// Header names in lower case.
    public let headers: [String: String]
    private let connection: HTTPClientConnection
    private let chunked: Bool
    /// Body bytes left: of the current chunk when chunked, of the whole body with a length.
    private var remaining: Int?
    private var ended = false
    private var pending: [UInt8] = []

    init(connection: HTTPClientConnection) throws(HTTPClientError) {
        self.connection = connection
        guard let statusLine = try connection.readLine(limit: 8192) else {
            throw HTTPClientError(.malformedResponse, "the server closed the connection without an answer")
        }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw HTTPClientError(.malformedResponse, "not an HTTP answer: \(statusLine.prefix(100))")
        }
        var headers: [String: String] = [:]
        while let line = try connection.readLine(limit: 65536), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = trimmed(line[line.index(after: colon)...])
            headers[line[..<colon].lowercased()] = value
        }
        self.status = status
        self.headers = headers
        chunked = headers["transfer-encoding"]?.lowercased().contains("chunked") == true
        if chunked {
            remaining = 0
        } else if let length = headers["content-length"].flatMap(Int.init) {
            remaining = length
        }
    }

    /// The next line of the body (without its line break); nil at its end.
    public func readLine() throws(HTTPClientError) -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > 0 && pending[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(newline + 1)
                return line
            }
            let more = try readBody()
            if more.isEmpty {
                guard !pending.isEmpty else { return nil }
                defer { pending = [] }
                return String(decoding: pending, as: UTF8.self)
            }
            pending += more
        }
    }

    /// The whole answer, the rest of its body read (for an error answer to a stream request).
    public func finish() throws(HTTPClientError) -> HTTPClientResponse {
        HTTPClientResponse(status: status, headers: headers, body: try readAll())
    }

    /// The rest of the body.
    public func readAll(limit: Int = 256 << 20) throws(HTTPClientError) -> [UInt8] {
        var body = pending
        pending = []
        while true {
            let more = try readBody()
            if more.isEmpty { return body }
            body += more
            guard body.count <= limit else { throw HTTPClientError(.malformedResponse, "an answer larger than \(limit) bytes") }
        }
    }

    /// The next body bytes as they arrive, decoded; empty at the end.
    private func readBody() throws(HTTPClientError) -> [UInt8] {
        guard !ended else { return [] }
        if chunked {
            if remaining == 0 {
                guard let sizeLine = try connection.readLine(limit: 1024) else { return end() }
                let size = sizeLine.split(separator: ";").first.flatMap { Int(trimmed($0), radix: 16) }
                guard let size, size >= 0 else { throw HTTPClientError(.malformedResponse, "bad chunk size '\(sizeLine.prefix(40))'") }
                if size == 0 { return end() }
                remaining = size
            }
            let bytes = try connection.read(remaining ?? 0)
            guard !bytes.isEmpty else { return end() }
            remaining = (remaining ?? 0) - bytes.count
            if remaining == 0 { _ = try connection.readLine(limit: 16) }  // the chunk's CRLF
            return bytes
        }
        if let left = remaining {
            guard left > 0 else { return end() }
            let bytes = try connection.read(min(left, 64 * 1024))
            guard !bytes.isEmpty else { return end() }
            remaining = left - bytes.count
            return bytes
        }
        let bytes = try connection.readAvailable()
        return bytes.isEmpty ? end() : bytes
    }

    private func end() -> [UInt8] {
        ended = true
        return []
    }
}

/// `text` without the blanks around it.
private func trimmed(_ text: Substring) -> String {
    String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
}

/// Why a request to the server got no usable answer.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// The failed step.
    public enum Code: Sendable, Equatable {
        /// The server URL is not `http://host[:port]`.
        case badURL
        /// The host did not resolve or nothing listens there.
        case connectFailed
        /// The connection broke.
        case io
        /// No bytes came for the read timeout.
        case timedOut
        /// The answer is not HTTP, or not what was asked for.
        case malformedResponse
        /// The server answered with this (error) status.
        case status(Int)
    }

    public let code: Code
    public let message: String
    public let hint: String?

    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String {
        hint.map { "\(message) (\($0))" } ?? message
    }
}
