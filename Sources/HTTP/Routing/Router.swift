/// Maps method + path pattern to a handler; built before the server starts, immutable after.
///
/// ```swift
/// var router = Router()
/// router.get("/api/items/{id}") { request in
///     let id = try request.pathParameter("id")
///     return .json(try items.find(id).json)
/// }
/// ```
/// Resolution: the most specific pattern that matches the path and allows the method wins
/// (`HEAD` is served by `GET` routes); a path that matches only with other methods is a 405 with
/// `Allow`; anything else goes to `fallback` (static files) or is a 404.
public struct Router: Sendable {
    /// A request handler. It runs on the server's thread, so it must not block: a route whose
    /// work may take more than a millisecond or two is registered with `.offThread` (or returns
    /// `Response.deferred` and answers through its `Responder` from another thread).
    public typealias Handler = @Sendable (Request) throws -> Response

    /// Where a route's handler runs.
    public enum Execution: Sendable, Hashable {
        /// On libmicrohttpd's thread: in-memory work only (records, queues, parked waits).
        case serverThread
        /// On the worker threads (`Response.offThread`): file reads, binaries parsed, links run.
        case offThread
    }

    /// Who may call a route when the server has a `BearerTokenAuth`.
    public enum Access: Sendable, Hashable {
        /// Only with the token (every API route and the event stream).
        case token
        /// Anyone: liveness and the status page's static files, which must load before the
        /// page can ask for the token.
        case open
    }

    /// One registered route.
    public struct Route: Sendable {
        public let method: HTTPMethod
        public let pattern: RoutePattern
        public let execution: Execution
        public let access: Access
        let handler: Handler
    }

    /// The outcome of `resolve`.
    enum Resolution {
        case matched(Handler, parameters: [String: String])
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    public private(set) var routes: [Route] = []
    /// Called for paths no route matches (e.g. static files); `nil` means 404. Open to anyone
    /// outside the auth's protected prefixes, like the static files it serves.
    public var fallback: Handler?

    public init() {}

    /// Registers `handler` for `method` and `pattern`, run where `execution` says and callable
    /// as `access` says (routes need the token unless registered `.open`).
    public mutating func add(
        _ method: HTTPMethod, _ pattern: String, runs execution: Execution = .serverThread, access: Access = .token,
        _ handler: @escaping Handler
    ) {
        let pattern = RoutePattern(pattern)
        precondition(
            !routes.contains { $0.method == method && $0.pattern == pattern },
            "route \(method) \(pattern) is registered twice"
        )
        let runs: Handler
        switch execution {
        case .serverThread: runs = handler
        case .offThread: runs = { request in .offThread { try handler(request) } }
        }
        routes.append(Route(method: method, pattern: pattern, execution: execution, access: access, handler: runs))
    }

    public mutating func get(_ pattern: String, runs execution: Execution = .serverThread, access: Access = .token, _ handler: @escaping Handler) {
        add(.get, pattern, runs: execution, access: access, handler)
    }
    public mutating func post(_ pattern: String, runs execution: Execution = .serverThread, access: Access = .token, _ handler: @escaping Handler) {
        add(.post, pattern, runs: execution, access: access, handler)
    }
    public mutating func put(_ pattern: String, runs execution: Execution = .serverThread, access: Access = .token, _ handler: @escaping Handler) {
        add(.put, pattern, runs: execution, access: access, handler)
    }
    public mutating func delete(_ pattern: String, runs execution: Execution = .serverThread, access: Access = .token, _ handler: @escaping Handler) {
        add(.delete, pattern, runs: execution, access: access, handler)
    }

    /// Registers a group of routes kept together (one resource's, or one module's).
    public mutating func register(_ collection: some RouteCollection) {
        collection.register(on: &self)
    }

    /// Every method and pattern, for the route-vs-OpenAPI test and for logs.
    public var routeList: [(method: HTTPMethod, pattern: String)] {
        routes.map { ($0.method, $0.pattern.text) }
    }

    func resolve(_ method: HTTPMethod, _ path: String) -> Resolution {
        let (best, matching) = candidates(method, path)
        if let best { return .matched(best.route.handler, parameters: best.parameters) }
        guard !matching.isEmpty else { return .notFound }
        var allowed: [HTTPMethod] = []
        for route in matching where !allowed.contains(route.method) { allowed.append(route.method) }
        if allowed.contains(.get), !allowed.contains(.head) { allowed.append(.head) }
        return .methodNotAllowed(allowed: allowed)
    }

    /// Who may make the request `resolve(method, path)` leads to: the matched route's access; for
    /// a 405, `.open` only when every route of that path is open; the fallback (or a 404) is open
    /// (`BearerTokenAuth` still guards its protected prefixes).
    func access(_ method: HTTPMethod, _ path: String) -> Access {
        let (best, matching) = candidates(method, path)
        if let best { return best.route.access }
        return matching.allSatisfy { $0.access == .open } ? .open : .token
    }

    /// The most specific route that matches `path` and serves `method` (`HEAD` by `GET` routes),
    /// and every route whose pattern matches `path` whatever its method, in registration order.
    private func candidates(
        _ method: HTTPMethod, _ path: String
    ) -> (best: (route: Route, parameters: [String: String])?, matching: [Route]) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var best: (route: Route, parameters: [String: String])?
        var matching: [Route] = []
        for route in routes {
            guard let parameters = route.pattern.match(segments) else { continue }
            matching.append(route)
            let serves = route.method == method || (method == .head && route.method == .get)
            guard serves else { continue }
            if best.map({ route.pattern.specificity > $0.route.pattern.specificity }) ?? true {
                best = (route, parameters)
            }
        }
        return (best, matching)
    }
}

/// A group of routes registered together, so an application composes its router from parts
/// (`router.register(ItemRoutes(store: store))`) instead of one long list.
public protocol RouteCollection {
    func register(on router: inout Router)
}
