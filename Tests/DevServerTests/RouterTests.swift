@testable import HTTP
import Testing

/// Path patterns and method resolution, without a server.
@Suite struct RouterTests {
    static func router() -> Router {
        var router = Router()
        let tag: (String) -> Router.Handler = { name in { _ in .text(name) } }
        router.get("/api/builds", tag("list"))
        router.post("/api/builds", tag("create"))
        router.get("/api/builds/{id}", tag("get"))
        router.delete("/api/builds/{id}", tag("cancel"))
        router.get("/api/builds/{id}/log", tag("log"))
        router.get("/api/patches/latest", tag("latest"))
        router.get("/api/patches/{id}", tag("patch"))
        router.get("/web/{path...}", tag("static"))
        return router
    }

    static func name(of resolution: Router.Resolution) throws -> (String, [String: String])? {
        guard case .matched(let handler, let parameters) = resolution else { return nil }
        let response = try handler(Request(method: .get, path: "/"))
        guard case .bytes(let bytes) = response.body else { return nil }
        return (String(decoding: bytes, as: UTF8.self), parameters)
    }

    @Test(arguments: [
        ("GET", "/api/builds", "list", [:]),
        ("POST", "/api/builds/", "create", [:]),
        ("GET", "/api/builds/b1", "get", ["id": "b1"]),
        ("HEAD", "/api/builds/b1", "get", ["id": "b1"]),
        ("DELETE", "/api/builds/b1", "cancel", ["id": "b1"]),
        ("GET", "/api/builds/b1/log", "log", ["id": "b1"]),
        ("GET", "/api/patches/latest", "latest", [:]),
        ("GET", "/api/patches/7", "patch", ["id": "7"]),
        ("GET", "/web/css/site.css", "static", ["path": "css/site.css"]),
    ] as [(String, String, String, [String: String])])
    func resolvesToTheMostSpecificRoute(method: String, path: String, handler: String, parameters: [String: String]) throws {
        let matched = try #require(try Self.name(of: Self.router().resolve(HTTPMethod(method), path)))
        #expect(matched.0 == handler)
        #expect(matched.1 == parameters)
    }

    @Test func knownPathWithAnotherMethodListsTheAllowedOnes() {
        guard case .methodNotAllowed(let allowed) = Self.router().resolve(.put, "/api/builds/b1") else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == [.get, .delete, .head])
    }

    @Test(arguments: ["/", "/api", "/api/builds/b1/log/extra", "/web", "/api/patches"])
    func unknownPathsAreNotFound(path: String) {
        guard case .notFound = Self.router().resolve(.get, path) else {
            Issue.record("\(path) should be 404")
            return
        }
    }

    @Test func accessIsTheMatchedRoutesAndOpenOnlyWhenEveryRouteOfAPathIs() {
        var router = Self.router()
        router.get("/healthz", access: .open) { _ in .noContent }
        router.get("/page", access: .open) { _ in .noContent }
        router.post("/page") { _ in .noContent }
        #expect(router.access(.get, "/healthz") == .open)
        #expect(router.access(.head, "/healthz") == .open)
        #expect(router.access(.post, "/healthz") == .open, "a 405 on an open path tells nothing")
        #expect(router.access(.get, "/page") == .open)
        #expect(router.access(.post, "/page") == .token)
        #expect(router.access(.put, "/page") == .token, "a 405 where some route needs the token needs it too")
        #expect(router.access(.get, "/api/builds/b1") == .token, "routes need the token unless registered open")
        #expect(router.access(.get, "/nothing/here") == .open, "the fallback's (the auth still guards /api)")
    }

    @Test func routeListShowsWhatIsRegistered() {
        let list = Self.router().routeList.map { "\($0.method) \($0.pattern)" }
        #expect(list.contains("GET /api/builds/{id}/log"))
        #expect(list.contains("GET /web/{path...}"))
        #expect(list.count == 8)
    }
}
