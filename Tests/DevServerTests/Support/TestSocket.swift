import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client socket for tests, with timeouts on every read.
final class TestSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let descriptor: Int32

    /// Connects to 127.0.0.1:`port`. `receiveBuffer` shrinks SO_RCVBUF before connecting, to make
    /// a client that does not read fill up quickly.
    init(port: UInt16, receiveBuffer: Int32? = nil) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        if var size = receiveBuffer {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: "connect to port \(port): \(reason)")
        }
    }

    deinit {
        close(descriptor)
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            sent += count
        }
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    /// Up to `limit` bytes, waiting at most `timeout`; `[]` at end of stream; throws on timeout.
    func receive(limit: Int = 65536, timeout: Duration) throws -> [UInt8] {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&poller, 1, milliseconds)
        guard ready > 0 else { throw Failure(description: "no data within \(timeout)") }
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count < 0 {
            if errno == ECONNRESET { return [] }
            throw Failure(description: "recv: \(String(cString: strerror(errno)))")
        }
        return Array(buffer.prefix(count))
    }

    /// Everything until the peer closes, or throws after `timeout` without progress.
    func receiveAll(timeout: Duration) throws -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try receive(timeout: timeout)
            if chunk.isEmpty { return all }
            all += chunk
        }
    }

    func shutdownWrite() {
        shutdown(descriptor, Int32(SHUT_WR))
    }
}
