import CMicroHTTPD
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An HTTP/1.1 server on libmicrohttpd: a router of synchronous handlers, deferred responses and
/// streams, all on libmicrohttpd's internal polling thread (epoll on Linux).
///
/// ```swift
/// let server = HTTPServer(configuration: .init(port: 0), router: router)
/// try server.start()
/// print(server.port)
/// …
/// server.stop()
/// ```
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    let core: ServerCore

    private struct DaemonState {
        var daemon: OpaquePointer?
        var listenSocket: ListeningSocket?
        var quiesced = false
        var stopped = false
    }

    private let state = Mutex(DaemonState())

    public init(
        configuration: HTTPServerConfiguration,
        router: Router,
        errorMapping: ErrorMapping = ErrorMapping(),
        logger: Logger = Logger(label: "whisker.http")
    ) {
        self.configuration = configuration
        self.core = ServerCore(configuration: configuration, router: router, errorMapping: errorMapping, logger: logger)
    }

    /// Binds the socket and starts libmicrohttpd's thread.
    public func start() throws(HTTPServerError) {
        try state.withLock { (state: inout DaemonState) throws(HTTPServerError) in
            guard state.daemon == nil, !state.stopped else {
                throw HTTPServerError(.alreadyStarted, "the server was already started")
            }
            let socket = try ListeningSocket.bind(host: configuration.host, port: configuration.port)
            guard let daemon = startDaemon(listening: socket.descriptor) else {
                close(socket.descriptor)
                throw HTTPServerError(
                    .daemonFailed,
                    "libmicrohttpd did not start (see the log line above)",
                    hint: "check that libmicrohttpd was built with epoll and thread support"
                )
            }
            state.daemon = daemon
            state.listenSocket = socket
        }
    }

    /// The bound port (the free one picked when configured with 0); 0 before `start()`.
    public var port: UInt16 {
        state.withLock { $0.listenSocket?.port ?? 0 }
    }

    /// `http://host:port`, with IPv6 hosts in brackets.
    public var url: String {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return "http://\(host):\(port)"
    }

    public var isRunning: Bool {
        state.withLock { $0.daemon != nil && !$0.stopped }
    }

    /// Open response streams (SSE subscribers and the like).
    public var openStreamCount: Int { core.openStreamCount }

    /// The routing table this server answers with (a test enumerates its routes).
    public var router: Router { core.router }

    /// Stops accepting new connections; requests on open connections still complete.
    public func stopAccepting() {
        state.withLock { state in
            guard let daemon = state.daemon, !state.quiesced, !state.stopped else { return }
            // The returned descriptor is ours (we bound it) and is closed after MHD_stop_daemon.
            _ = MHD_quiesce_daemon(daemon)
            state.quiesced = true
        }
    }

    /// Shuts down: stop accepting, answer waiting requests with 503, let streams send what they
    /// have queued (up to `shutdownGracePeriod`), close the rest, stop libmicrohttpd.
    ///
    /// Publish any farewell (the SSE `server.shutdown` event) before calling this.
    public func stop() {
        stopAccepting()
        core.beginClosing()
        let deadline = ContinuousClock.now + configuration.shutdownGracePeriod
        while core.pendingCount > 0, ContinuousClock.now < deadline {
            usleep(5_000)
        }
        core.abortOpenStreams()
        let (daemon, socket) = state.withLock { state -> (OpaquePointer?, ListeningSocket?) in
            guard !state.stopped else { return (nil, nil) }
            state.stopped = true
            defer { state.daemon = nil }
            return (state.daemon, state.listenSocket)
        }
        if let daemon { MHD_stop_daemon(daemon) }
        if let socket { close(socket.descriptor) }
    }

    deinit {
        let daemon = state.withLock { $0.stopped ? nil : $0.daemon }
        if daemon != nil { stop() }
    }

    private func startDaemon(listening descriptor: Int32) -> OpaquePointer? {
        var flags = MHD_USE_INTERNAL_POLLING_THREAD.rawValue
            | MHD_ALLOW_SUSPEND_RESUME.rawValue
            | MHD_USE_ERROR_LOG.rawValue
        #if os(Linux)
        flags |= MHD_USE_EPOLL.rawValue
        #endif
        let cls = Unmanaged.passUnretained(core).toOpaque()
        var options: [any CVarArg] = [
            // The logger goes first so that messages about the other options reach it too.
            option(.EXTERNAL_LOGGER), MHDCallbacks.loggerPointer, OpaquePointer(cls),
            option(.LISTEN_SOCKET), descriptor,
            option(.CONNECTION_TIMEOUT), configuration.connectionTimeoutSeconds,
            option(.CONNECTION_LIMIT), configuration.connectionLimit,
            option(.PER_IP_CONNECTION_LIMIT), configuration.perIPConnectionLimit,
            option(.UNESCAPE_CALLBACK), MHDCallbacks.unescapePointer, Int(0), // no cls
            option(.NOTIFY_COMPLETED), MHDCallbacks.requestCompletedPointer, OpaquePointer(cls),
        ]
        if configuration.threadCount > 1 {
            options += [option(.THREAD_POOL_SIZE), configuration.threadCount]
        }
        options.append(option(.END))
        return withVaList(options) { arguments in
            MHD_start_daemon_va(flags, 0, nil, nil, MHDCallbacks.accessHandler, cls, arguments)
        }
    }

    private func option(_ option: MHD_OPTION) -> Int32 {
        Int32(bitPattern: option.rawValue)
    }
}
