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
    /// A request handler. It runs on the server's thread, so it must not block: slow work
    /// returns `Response.deferred` and answers through its `Responder` from another thread.
    public typealias Handler = @Sendable (Request) throws -> Response

    /// One registered route.
    public struct Route: Sendable {
        public let method: HTTPMethod
        public let pattern: RoutePattern
        let handler: Handler
    }

    /// The outcome of `resolve`.
    enum Resolution {
        case matched(Handler, parameters: [String: String])
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    public private(set) var routes: [Route] = []
    /// Called for paths no route matches (e.g. static files); `nil` means 404.
    public var fallback: Handler?

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        let pattern = RoutePattern(pattern)
        precondition(
            !routes.contains { $0.method == method && $0.pattern == pattern },
            "route \(method) \(pattern) is registered twice"
        )
        routes.append(Route(method: method, pattern: pattern, handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { add(.get, pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping Handler) { add(.post, pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: @escaping Handler) { add(.put, pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: @escaping Handler) { add(.delete, pattern, handler) }

    /// Registers a group of routes kept together (one resource's, or one module's).
    public mutating func register(_ collection: some RouteCollection) {
        collection.register(on: &self)
    }

    /// Every method and pattern, for the route-vs-OpenAPI test and for logs.
    public var routeList: [(method: HTTPMethod, pattern: String)] {
        routes.map { ($0.method, $0.pattern.text) }
    }

    func resolve(_ method: HTTPMethod, _ path: String) -> Resolution {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var best: (route: Route, parameters: [String: String])?
        var allowed: [HTTPMethod] = []
        for route in routes {
            guard let parameters = route.pattern.match(segments) else { continue }
            if !allowed.contains(route.method) { allowed.append(route.method) }
            let serves = route.method == method || (method == .head && route.method == .get)
            guard serves else { continue }
            if best.map({ route.pattern.specificity > $0.route.pattern.specificity }) ?? true {
                best = (route, parameters)
            }
        }
        if let best { return .matched(best.route.handler, parameters: best.parameters) }
        guard !allowed.isEmpty else { return .notFound }
        if allowed.contains(.get), !allowed.contains(.head) { allowed.append(.head) }
        return .methodNotAllowed(allowed: allowed)
    }
}

/// A group of routes registered together, so an application composes its router from parts
/// (`router.register(ItemRoutes(store: store))`) instead of one long list.
public protocol RouteCollection {
    func register(on router: inout Router)
}
