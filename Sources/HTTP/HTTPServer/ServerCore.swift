import Logging
import Synchronization

/// What libmicrohttpd's callbacks reach through their `cls` pointer: the routing table, the
/// error mapping and the registry of requests that outlive one callback.
final class ServerCore: Sendable {
    let configuration: HTTPServerConfiguration
    let router: Router
    let errorMapping: ErrorMapping
    let logger: Logger

    /// Deferred requests and open streams, so shutdown can answer and end every one of them
    /// (libmicrohttpd must not be stopped while a connection is suspended).
    private struct Registry {
        var closing = false
        var responders: [ObjectIdentifier: Responder] = [:]
        var streams: [ObjectIdentifier: ResponseStream] = [:]
    }

    private let registry = Mutex(Registry())

    init(configuration: HTTPServerConfiguration, router: Router, errorMapping: ErrorMapping, logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.errorMapping = errorMapping
        self.logger = logger
    }

    /// `false` once shutdown has begun: the caller answers 503 instead of waiting.
    func register(_ responder: Responder) -> Bool {
        registry.withLock { registry in
            guard !registry.closing else { return false }
            registry.responders[ObjectIdentifier(responder)] = responder
            return true
        }
    }

    func unregister(_ responder: Responder) {
        _ = registry.withLock { $0.responders.removeValue(forKey: ObjectIdentifier(responder)) }
    }

    func register(_ stream: ResponseStream) -> Bool {
        registry.withLock { registry in
            guard !registry.closing else { return false }
            registry.streams[ObjectIdentifier(stream)] = stream
            return true
        }
    }

    func unregister(_ stream: ResponseStream) {
        _ = registry.withLock { $0.streams.removeValue(forKey: ObjectIdentifier(stream)) }
    }

    var openStreamCount: Int {
        registry.withLock { $0.streams.count }
    }

    var pendingCount: Int {
        registry.withLock { $0.responders.count + $0.streams.count }
    }

    /// Refuses new waits, answers every pending deferred request with 503 and lets every open
    /// stream end after its queued bytes.
    func beginClosing() {
        let (responders, streams) = registry.withLock { registry in
            registry.closing = true
            return (Array(registry.responders.values), Array(registry.streams.values))
        }
        for responder in responders { responder.respond(Response(error: HTTPError.shuttingDown)) }
        for stream in streams { stream.finish() }
    }

    /// Closes the streams that did not drain within the grace period.
    func abortOpenStreams() {
        let streams = registry.withLock { Array($0.streams.values) }
        for stream in streams { stream.abort() }
    }

    /// Runs the handler for a fully received request; never throws, never traps on input.
    func respond(to request: Request) -> Response {
        if let auth = configuration.auth, let denied = auth.check(request, routeAccess: router.access(request.method, request.path)) {
            return Response(error: denied)
        }
        switch router.resolve(request.method, request.path) {
        case .matched(let handler, let parameters):
            var request = request
            request.pathParameters = parameters
            return run(handler, request)
        case .methodNotAllowed(let allowed):
            let list = allowed.map(\.rawValue).joined(separator: ", ")
            return Response(error: HTTPError(
                .methodNotAllowed,
                code: "method_not_allowed",
                message: "\(request.method) is not allowed on \(request.path)",
                hint: "allowed: \(list)",
                headers: ["Allow": list]
            ))
        case .notFound:
            if let fallback = router.fallback { return run(fallback, request) }
            return Response(error: HTTPError(
                .notFound,
                code: "not_found",
                message: "no route for \(request.method) \(request.path)",
                hint: "see openapi/openapi.yaml for the endpoints"
            ))
        }
    }

    private func run(_ handler: Router.Handler, _ request: Request) -> Response {
        do {
            return try handler(request)
        } catch {
            let mapped = errorMapping.httpError(for: error)
            if mapped.status.code >= 500 {
                logger.error("\(request.method) \(request.path) failed: \(String(describing: error))")
            }
            return Response(error: mapped)
        }
    }
}
