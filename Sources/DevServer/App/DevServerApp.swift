import HTTP
import Logging
import Synchronization

/// The dev server without the pipeline: health, status, the SSE stream and the status page, plus
/// a place to plug in the pipeline's routes.
///
/// ```swift
/// let events = EventHub()
/// let session = try ProjectSession(configuration: …, events: events)
/// let routes = ProjectRoutes(session: session)
/// let app = DevServerApp(
///     configuration: DevServerConfiguration(port: 0, webRoot: "web"),
///     events: events,
///     status: { routes.statusJSON() },
///     routes: [routes]
/// )
/// try app.start()
/// print(app.url)
/// let signal = await app.waitForTerminationSignal()
/// app.shutdown()
/// ```
/// Whatever `errorMapping` says, a `SessionError` becomes its HTTP form
/// (`SessionError.httpStatuses`).
public final class DevServerApp: Sendable {
    /// What `GET /api/status` reports besides the server's own block.
    public typealias StatusProvider = @Sendable () throws -> JSONObject
    /// Builds the filter of one `GET /api/events` subscription from its request (`?device=ID`);
    /// `nil` sends everything. Throwing (404 unknown device) refuses the subscription.
    public typealias EventFilterProvider = @Sendable (Request) throws -> EventFilter?

    public let configuration: DevServerConfiguration
    public let events: EventHub
    public let server: HTTPServer
    let startedAt = ContinuousClock.now

    public init(
        configuration: DevServerConfiguration,
        events: EventHub? = nil,
        status: @escaping StatusProvider = { [:] },
        routes: [any RouteCollection] = [],
        eventFilter: @escaping EventFilterProvider = { _ in nil },
        errorMapping: ErrorMapping = ErrorMapping(),
        logger: Logger = Logger(label: "whisker.dev-server")
    ) {
        let events = events ?? EventHub(configuration: configuration.events)
        self.configuration = configuration
        self.events = events
        // Weak: the server owns the router that owns this closure.
        let serverSlot = ServerSlot()
        let router = Self.makeRouter(
            configuration: configuration,
            core: CoreRoutes(
                events: events,
                status: status,
                eventFilter: eventFilter,
                startedAt: startedAt,
                serverInfo: { serverSlot.server }
            ),
            routes: routes
        )
        var errorMapping = errorMapping
        errorMapping.add(SessionError.httpMapper)
        let server = HTTPServer(configuration: configuration.http, router: router, errorMapping: errorMapping, logger: logger)
        serverSlot.server = server
        self.server = server
    }

    /// The routing table: core routes, then `routes`, with static files as the fallback.
    /// Public so a test can compare it with `openapi/openapi.yaml` without starting a server.
    public static func makeRouter(
        configuration: DevServerConfiguration,
        routes: [any RouteCollection] = []
    ) -> Router {
        let events = EventHub(configuration: configuration.events)
        defer { events.shutdown() }
        let core = CoreRoutes(
            events: events,
            status: { [:] },
            eventFilter: { _ in nil },
            startedAt: .now,
            serverInfo: { nil }
        )
        return makeRouter(configuration: configuration, core: core, routes: routes)
    }

    private static func makeRouter(
        configuration: DevServerConfiguration,
        core: CoreRoutes,
        routes: [any RouteCollection]
    ) -> Router {
        var router = Router()
        router.register(core)
        for collection in routes { collection.register(on: &router) }
        StaticRoutes(root: configuration.webRoot).register(on: &router)
        return router
    }

    public func start() throws(HTTPServerError) {
        try server.start()
    }

    public var port: UInt16 { server.port }
    public var url: String { server.url }

    /// Stop accepting, send the final `server.shutdown` event, end every stream, answer
    /// waiting requests with 503, stop. Idempotent.
    public func shutdown(reason: String = "the server is shutting down") {
        server.stopAccepting()
        events.shutdown(reason: reason)
        server.stop()
    }
}

/// The app's server as the status route sees it: set once the server exists, held weakly (the
/// server owns the router that owns the route).
private final class ServerSlot: Sendable {
    private let slot = Mutex(WeakServer())

    var server: HTTPServer? {
        get { slot.withLock { $0.server } }
        set { slot.withLock { $0.server = newValue } }
    }

    /// A weak reference as a value the mutex can hold.
    private struct WeakServer {
        weak var server: HTTPServer?
    }
}
