/// How the HTTP server listens and what it tolerates.
public struct HTTPServerConfiguration: Sendable {
    /// Address to bind: `127.0.0.1` (default), `0.0.0.0` or `::` for the LAN, or a host name.
    public var host: String
    /// TCP port; 0 picks a free one (read it back from `HTTPServer.port`).
    public var port: UInt16
    /// Idle time after which libmicrohttpd closes a connection (suspended ones excepted).
    public var connectionTimeoutSeconds: UInt32
    /// Concurrent connections in total, and from one client address.
    public var connectionLimit: UInt32
    public var perIPConnectionLimit: UInt32
    /// Largest request body accepted; larger ones get 413.
    public var maxBodySize: Int
    /// Threads polling connections; 1 is libmicrohttpd's single internal thread. Handlers run on
    /// these threads, which is why slow work must be deferred.
    public var threadCount: UInt32
    /// Bearer-token check for LAN mode; `nil` when serving on loopback only.
    public var auth: BearerTokenAuth?
    /// How long `stop()` waits for streams to send their last bytes before closing them.
    public var shutdownGracePeriod: Duration

    public init(
        host: String = "127.0.0.1",
        port: UInt16 = 9630,
        connectionTimeoutSeconds: UInt32 = 60,
        connectionLimit: UInt32 = 1024,
        perIPConnectionLimit: UInt32 = 512,
        maxBodySize: Int = 1 << 20,
        threadCount: UInt32 = 1,
        auth: BearerTokenAuth? = nil,
        shutdownGracePeriod: Duration = .seconds(2)
    ) {
        self.host = host
        self.port = port
        self.connectionTimeoutSeconds = connectionTimeoutSeconds
        self.connectionLimit = connectionLimit
        self.perIPConnectionLimit = perIPConnectionLimit
        self.maxBodySize = maxBodySize
        self.threadCount = threadCount
        self.auth = auth
        self.shutdownGracePeriod = shutdownGracePeriod
    }
}
