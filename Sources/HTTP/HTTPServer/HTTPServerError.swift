/// Why the HTTP server could not start.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// The failed step.
    public enum Code: Sendable, Equatable {
        /// The host name did not resolve to an address.
        case resolveFailed
        /// `socket`/`bind`/`listen` failed (port in use, address not local, permission).
        case bindFailed
        /// libmicrohttpd refused to start with our options.
        case daemonFailed
        /// `start()` was called twice.
        case alreadyStarted
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
