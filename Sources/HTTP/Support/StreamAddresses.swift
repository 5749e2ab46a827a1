#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The TCP addresses a host and port resolve to, tried in order until one opens: what the
/// server's listening socket and the client's connection share. The platform's `getaddrinfo`
/// walk lives here once.
enum StreamAddresses {
    /// Why one address did not open (the last one's reason is reported).
    struct Failure: Error {
        let reason: String
    }

    enum Attempt<Opened> {
        case opened(Opened)
        /// `getaddrinfo` failed, with its reason.
        case unresolved(String)
        /// Every address failed; the last one's reason.
        case failed(String)
    }

    /// Resolves `host:port` (`passive`: for binding) and runs `open` on each stream socket address
    /// until it succeeds. `open` gets a fresh close-on-exec socket of the address's family and
    /// owns it: it closes it when it fails.
    static func openFirst<Opened>(
        host: String, port: UInt16, passive: Bool,
        _ open: (_ descriptor: Int32, _ address: addrinfo) -> Result<Opened, Failure>
    ) -> Attempt<Opened> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_flags = (passive ? AI_PASSIVE : 0) | AI_NUMERICSERV
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            return .unresolved(String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(results) }
        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard descriptor >= 0 else {
                lastError = "socket: \(String(cString: strerror(errno)))"
                continue
            }
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            switch open(descriptor, info.pointee) {
            case .success(let opened): return .opened(opened)
            case .failure(let failure): lastError = failure.reason
            }
        }
        return .failed(lastError)
    }

    /// `what: strerror(errno)` (just `strerror(errno)` without `what`), after closing `descriptor`.
    static func fail<Opened>(_ descriptor: Int32, _ what: String? = nil) -> Result<Opened, Failure> {
        let reason = (what.map { "\($0): " } ?? "") + String(cString: strerror(errno))
        close(descriptor)
        return .failure(Failure(reason: reason))
    }
}
