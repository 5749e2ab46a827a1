import HTTP

/// Everything `DevServerApp` needs besides the pipeline: where to listen, LAN mode, the status
/// page's files and SSE limits.
public struct DevServerConfiguration: Sendable {
    public var http: HTTPServerConfiguration
    /// Directory of the status page (`web/`); `nil` serves no static files.
    public var webRoot: String?
    public var events: EventHub.Configuration

    /// Loopback by default. `lanToken` switches on LAN mode: every `/api` request needs it.
    public init(
        host: String = "127.0.0.1",
        port: UInt16 = 9630,
        lanToken: String? = nil,
        webRoot: String? = nil,
        events: EventHub.Configuration = EventHub.Configuration()
    ) {
        self.http = HTTPServerConfiguration(host: host, port: port, auth: lanToken.map { BearerTokenAuth(token: $0) })
        self.webRoot = webRoot
        self.events = events
    }
}
