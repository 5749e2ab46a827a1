import Foundation

/// One event as an SSE client parses it.
struct ReceivedEvent: Equatable {
    var id: String?
    var name: String
    var data: String
}

/// An `EventSource`-like client over a raw socket: sends the request, checks the response head,
/// then parses events (and counts comments such as heartbeats) from the chunked body.
/// Used by one thread at a time (a test may hand it to a reader thread).
final class SSETestClient: @unchecked Sendable {
    let socket: TestSocket
    let status: Int
    let headers: [(name: String, value: String)]
    private var decoder = ChunkedDecoder()
    private var text = ""
    private(set) var comments: [String] = []
    private(set) var retry: String?
    private(set) var closed = false

    init(port: UInt16, path: String = "/api/events", headers: [(String, String)] = [], receiveBuffer: Int32? = nil) throws {
        socket = try TestSocket(port: port, receiveBuffer: receiveBuffer)
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        try socket.send(head + "\r\n")
        var raw: [UInt8] = []
        while raw.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
            let chunk = try socket.receive(timeout: .seconds(5))
            guard !chunk.isEmpty else { throw TestSocket.Failure(description: "closed before the response head") }
            raw += chunk
        }
        let end = try require2(raw.firstRange(of: Array("\r\n\r\n".utf8)))
        let parsed = try TestHTTPClient.parse(Array(raw[..<end.upperBound]))
        status = parsed.status
        self.headers = parsed.headers
        text = String(decoding: decoder.feed(Array(raw[end.upperBound...])), as: UTF8.self)
    }

    /// The next complete event, waiting up to `timeout` for it; `nil` when the stream ended.
    func next(timeout: Duration = .seconds(5)) throws -> ReceivedEvent? {
        while true {
            if let event = takeEvent() { return event }
            if closed || decoder.finished { return nil }
            let chunk = try socket.receive(timeout: timeout)
            if chunk.isEmpty {
                closed = true
                continue
            }
            text += String(decoding: decoder.feed(chunk), as: UTF8.self)
        }
    }

    /// Events until the stream ends.
    func remaining(timeout: Duration = .seconds(5)) throws -> [ReceivedEvent] {
        var events: [ReceivedEvent] = []
        while let event = try next(timeout: timeout) { events.append(event) }
        return events
    }

    /// Parses one block up to a blank line; comment-only blocks are recorded and skipped.
    private func takeEvent() -> ReceivedEvent? {
        while let range = text.range(of: "\n\n") {
            let block = String(text[..<range.lowerBound])
            text.removeSubrange(..<range.upperBound)
            var event = ReceivedEvent(id: nil, name: "message", data: "")
            var hasData = false
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") {
                    comments.append(String(line.dropFirst()).trimmingCharacters(in: .whitespaces))
                    continue
                }
                let (field, value) = line.firstIndex(of: ":").map {
                    (String(line[..<$0]), String(line[line.index(after: $0)...]).trimmingPrefix(" "))
                } ?? (String(line), "")
                switch field {
                case "id": event.id = String(value)
                case "event": event.name = String(value)
                case "data":
                    event.data += hasData ? "\n" + value : String(value)
                    hasData = true
                case "retry": retry = String(value)
                default: break
                }
            }
            if hasData { return event }
        }
        return nil
    }
}

/// `#require` for non-test contexts (helpers): throws instead of recording an issue.
func require2<T>(_ value: T?, _ what: String = "value") throws -> T {
    guard let value else { throw TestSocket.Failure(description: "missing \(what)") }
    return value
}
