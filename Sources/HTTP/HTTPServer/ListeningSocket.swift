#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bound, listening TCP socket handed to libmicrohttpd.
///
/// We bind it ourselves (instead of letting libmicrohttpd do it) so that any host name or IPv6
/// address works and so that the port picked for port 0 can be read back with `getsockname`:
/// `MHD_get_daemon_info` is C-variadic and cannot be called from Swift.
struct ListeningSocket {
    let descriptor: Int32
    let port: UInt16

    static func bind(host: String, port: UInt16, backlog: Int32 = 512) throws(HTTPServerError) -> ListeningSocket {
        let attempt = StreamAddresses.openFirst(host: host, port: port, passive: true) { descriptor, address -> Result<ListeningSocket, StreamAddresses.Failure> in
            var one: Int32 = 1
            _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            // Several polling threads may race on accept(); a blocking socket would stall the losers.
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            guard Glibc_bind(descriptor, address.ai_addr, address.ai_addrlen) == 0 else {
                return StreamAddresses.fail(descriptor, "bind")
            }
            guard listen(descriptor, backlog) == 0 else { return StreamAddresses.fail(descriptor, "listen") }
            guard let bound = boundPort(descriptor) else { return StreamAddresses.fail(descriptor, "getsockname") }
            return .success(ListeningSocket(descriptor: descriptor, port: bound))
        }
        switch attempt {
        case .opened(let listening):
            return listening
        case .unresolved(let reason):
            throw HTTPServerError(.resolveFailed, "cannot resolve host '\(host)': \(reason)", hint: "pass --host 127.0.0.1, 0.0.0.0 or ::")
        case .failed(let lastError):
            throw HTTPServerError(
                .bindFailed,
                "cannot listen on \(host):\(port): \(lastError)",
                hint: "pick another --port (0 picks a free one) or stop the process using it"
            )
        }
    }

    private static func boundPort(_ descriptor: Int32) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard status == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
        default:
            return nil
        }
    }
}

/// `bind` is shadowed by `ListeningSocket.bind`; this reaches the C function.
private func Glibc_bind(_ descriptor: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
    #if canImport(Glibc)
    Glibc.bind(descriptor, address, length)
    #else
    Darwin.bind(descriptor, address, length)
    #endif
}
