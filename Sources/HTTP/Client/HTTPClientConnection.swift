#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One TCP connection of ``HTTPClient``: connect, send, and buffered reads of lines and bytes,
/// each read bounded by a timeout (`SO_RCVTIMEO`). The platform calls of the client live here.
final class HTTPClientConnection {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    init(host: String, port: UInt16, timeout: Duration) throws(HTTPClientError) {
        let attempt = StreamAddresses.openFirst(host: host, port: port, passive: false) { descriptor, address -> Result<Int32, StreamAddresses.Failure> in
            #if canImport(Darwin)
            // A server that went away must be an error here, not a SIGPIPE.
            var one: Int32 = 1
            _ = setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            guard connect(descriptor, address.ai_addr, address.ai_addrlen) == 0 else {
                return StreamAddresses.fail(descriptor)
            }
            return .success(descriptor)
        }
        switch attempt {
        case .opened(let descriptor):
            self.descriptor = descriptor
            setTimeout(timeout)
        case .unresolved(let reason):
            throw HTTPClientError(.connectFailed, "cannot resolve \(host): \(reason)")
        case .failed(let lastError):
            throw HTTPClientError(
                .connectFailed, "cannot connect to \(host):\(port): \(lastError)",
                hint: "is `whisker-dev serve` running there? pass its URL with --server")
        }
    }

    deinit { close(descriptor) }

    /// How long one read may wait for bytes before it fails with `timedOut`.
    func setTimeout(_ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        var value = timeval()
        value.tv_sec = .init(max(0, seconds))
        value.tv_usec = .init(max(0, attoseconds / 1_000_000_000_000))
        if value.tv_sec == 0 && value.tv_usec == 0 { value.tv_usec = 1000 }
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ bytes: [UInt8]) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            #if canImport(Glibc)
            let flags = Int32(MSG_NOSIGNAL)
            #else
            let flags: Int32 = 0
            #endif
            let sent = bytes[offset...].withUnsafeBytes { sendBytes(descriptor, $0.baseAddress, $0.count, flags) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { throw failure("sending the request") }
            offset += sent
        }
    }

    /// Reads more bytes into the buffer; false at the end of the stream.
    private func fill() throws(HTTPClientError) -> Bool {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw failure("reading the answer") }
            buffer.append(contentsOf: chunk[0..<count])
            return count > 0
        }
    }

    /// One line without its CRLF (or LF); nil at the end of the stream.
    func readLine(limit: Int = 1 << 20) throws(HTTPClientError) -> String? {
        // Relative to `start`, which `fill` moves to 0.
        var searched = 0
        while true {
            if let newline = buffer[(start + searched)...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = newline + 1
                return line
            }
            searched = buffer.count - start
            guard searched <= limit else { throw HTTPClientError(.malformedResponse, "a line longer than \(limit) bytes") }
            guard try fill() else {
                if start == buffer.count { return nil }
                let line = String(decoding: buffer[start...], as: UTF8.self)
                start = buffer.count
                return line
            }
        }
    }

    /// Up to `count` bytes (fewer only at the end of the stream).
    func read(_ count: Int) throws(HTTPClientError) -> [UInt8] {
        while buffer.count - start < count {
            guard try fill() else { break }
        }
        let end = min(buffer.count, start + count)
        defer { start = end }
        return Array(buffer[start..<end])
    }

    /// Bytes already received or the next ones to arrive; empty at the end of the stream.
    func readAvailable() throws(HTTPClientError) -> [UInt8] {
        if start == buffer.count {
            guard try fill() else { return [] }
        }
        defer { start = buffer.count }
        return Array(buffer[start...])
    }

    private func failure(_ what: String) -> HTTPClientError {
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK { return HTTPClientError(.timedOut, "\(what): timed out") }
        return HTTPClientError(.io, "\(what): \(String(cString: strerror(code)))")
    }
}

#if canImport(Glibc)
private func sendBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    Glibc.send(descriptor, bytes, count, flags)
}
#else
private func sendBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    Darwin.send(descriptor, bytes, count, flags)
}
#endif
