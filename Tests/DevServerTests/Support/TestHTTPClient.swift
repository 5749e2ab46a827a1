import DevServer
import HTTP
import Foundation

/// A parsed HTTP response as the tests see it.
struct TestResponse {
    let status: Int
    let headers: [(name: String, value: String)]
    let body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> JSONValue { try JSONValue.parse(body) }

    /// `error.code` of a `{"error": {…}}` body.
    var errorCode: String? { (try? json())?["error"]?["code"]?.stringValue }
    var errorMessage: String? { (try? json())?["error"]?["message"]?.stringValue }
}

/// A minimal HTTP/1.1 client over a raw socket: it sends exactly the bytes we choose (so tests
/// can send `..` paths and bad bodies no library would) and decodes chunked bodies.
enum TestHTTPClient {
    static func request(
        port: UInt16,
        _ method: String,
        _ target: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        timeout: Duration = .seconds(10)
    ) throws -> TestResponse {
        let socket = try TestSocket(port: port)
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try socket.send(head)
        let expectsContinue = headers.contains { $0.0.lowercased() == "expect" }
        if let body, !expectsContinue { try socket.send(body) }
        var raw = try socket.receiveAll(timeout: timeout)
        // A "100 Continue" interim response precedes the real one when the body was sent after it.
        if raw.starts(with: Array("HTTP/1.1 100".utf8)), let end = raw.firstRange(of: Array("\r\n\r\n".utf8)) {
            raw.removeSubrange(..<end.upperBound)
        }
        return try parse(raw)
    }

    static func get(port: UInt16, _ target: String, headers: [(String, String)] = []) throws -> TestResponse {
        try request(port: port, "GET", target, headers: headers)
    }

    static func post(port: UInt16, _ target: String, json: String, headers: [(String, String)] = []) throws -> TestResponse {
        try request(port: port, "POST", target, headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8))
    }

    static func parse(_ raw: [UInt8]) throws -> TestResponse {
        guard let end = raw.firstRange(of: Array("\r\n\r\n".utf8)) else {
            throw TestSocket.Failure(description: "no complete response head in \(raw.count) bytes")
        }
        let head = String(decoding: raw[..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw TestSocket.Failure(description: "bad status line in \(head)")
        }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Array(raw[end.upperBound...])
        let chunked = headers.contains { $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased().contains("chunked") }
        if chunked {
            var decoder = ChunkedDecoder()
            body = decoder.feed(body)
        }
        return TestResponse(status: status, headers: headers, body: body)
    }
}

/// Incremental `Transfer-Encoding: chunked` decoder.
struct ChunkedDecoder {
    private var pending: [UInt8] = []
    private var remaining: Int?
    private(set) var finished = false

    /// Decoded bytes available after adding `bytes`.
    mutating func feed(_ bytes: [UInt8]) -> [UInt8] {
        pending += bytes
        var output: [UInt8] = []
        while !finished {
            if let count = remaining {
                guard pending.count >= count + 2 else { break }
                output += pending[..<count]
                pending.removeFirst(count + 2)
                remaining = nil
            } else {
                guard let lineEnd = pending.firstRange(of: Array("\r\n".utf8)) else { break }
                let line = String(decoding: pending[..<lineEnd.lowerBound], as: UTF8.self)
                pending.removeFirst(lineEnd.upperBound)
                let size = Int(line.split(separator: ";").first ?? "", radix: 16) ?? 0
                if size == 0 { finished = true } else { remaining = size }
            }
        }
        return output
    }
}
