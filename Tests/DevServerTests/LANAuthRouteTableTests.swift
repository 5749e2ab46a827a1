@testable import DevServer
import Foundation
@testable import HTTP
import Testing

/// LAN mode over the routes the running server actually has (`HTTPServer.router`, so a route
/// added later is in the table without anyone remembering to add it): every route but the open
/// ones answers 401 without the right token — none, a wrong one, its prefix, a wrong `?token=`,
/// `HEAD`, a doubled or trailing slash — and none of those requests changes anything.
@Suite struct LANAuthRouteTableTests {
    static let token = "lan-route-table-t0ken"
    /// The only routes anyone may call in LAN mode: liveness and the status page's files. Adding
    /// one here is a decision to publish it.
    static let openRoutes: Set<String> = ["GET /healthz", "GET /", "GET /web/{path...}"]

    static func label(_ route: Router.Route) -> String { "\(route.method) \(route.pattern.text)" }

    /// `pattern` with its parameters filled with ids that name nothing (an authorised request is
    /// then a plain 404 and changes nothing), and `{path...}` with the page's index.
    static func path(for pattern: RoutePattern) -> String {
        let segments = pattern.text.split(separator: "/").map { segment -> String in
            guard segment.hasPrefix("{") else { return String(segment) }
            return segment.hasSuffix("...}") ? "index.html" : "x404"
        }
        return "/" + segments.joined(separator: "/")
    }

    /// One way of asking without the token: what it sends on top of the route's method and path.
    struct Attempt: Sendable {
        var name: String
        var method: @Sendable (HTTPMethod) -> String = { $0.rawValue }
        var target: @Sendable (String) -> String = { $0 }
        var headers: [(String, String)] = []
    }

    static let attempts: [Attempt] = [
        Attempt(name: "no token"),
        Attempt(name: "wrong", headers: [("Authorization", "Bearer not-the-token")]),
        Attempt(name: "prefix", headers: [("Authorization", "Bearer " + String(token.dropLast()))]),
        Attempt(name: "longer", headers: [("Authorization", "Bearer \(token)x")]),
        Attempt(name: "basic", headers: [("Authorization", "Basic \(token)")]),
        Attempt(name: "?token=", target: { $0 + "?token=wrong" }),
        Attempt(name: "HEAD", method: { $0 == .get ? "HEAD" : $0.rawValue }),
        Attempt(name: "//path", target: { "/" + $0 }),
        Attempt(name: "path/", target: { $0 + "/" }),
    ]

    static func send(_ port: UInt16, _ method: String, _ target: String, headers: [(String, String)]) throws -> TestResponse {
        let hasBody = method == "POST" || method == "PUT"
        return try TestHTTPClient.request(
            port: port, method, target, headers: headers + (hasBody ? [("Content-Type", "application/json")] : []),
            body: hasBody ? Array("{}".utf8) : nil)
    }

    @Test func everyRouteButTheOpenOnesAnswers401WithoutTheToken() throws {
        let site = try StaticFilesAndAuthTests.makeSite()
        let harness = try SessionHarness()
        try harness.build()
        let events = EventHub()
        let routes = ProjectRoutes(session: harness.session)
        let app = DevServerApp(
            configuration: DevServerConfiguration(port: 0, lanToken: Self.token, webRoot: site.path + "/web"), events: events,
            status: { routes.statusJSON() }, routes: [routes], eventFilter: { try routes.eventFilter(for: $0) })
        try app.start()
        defer { app.shutdown() }

        let table = app.server.router.routes
        #expect(table.count >= 30, "the router has only \(table.count) routes")
        #expect(Set(table.filter { $0.access == .open }.map(Self.label)) == Self.openRoutes)
        #expect(table.contains { Self.label($0) == "GET /api/events" }, "the event stream is a route like any other")

        let before = (harness.session.builds.count, harness.session.patches(after: 0).count, harness.session.visibleDevices.count,
                      harness.pipeline.calls.count)
        var lines: [String] = []
        for route in table {
            let path = Self.path(for: route.pattern)
            let open = Self.openRoutes.contains(Self.label(route))
            var cells: [String] = []
            for attempt in Self.attempts {
                let response = try Self.send(app.port, attempt.method(route.method), attempt.target(path), headers: attempt.headers)
                cells.append(String(response.status))
                if open {
                    #expect(response.status != 401, "\(Self.label(route)) is open, yet \(attempt.name) got 401")
                } else {
                    #expect(response.status == 401, "\(Self.label(route)) with \(attempt.name): \(response.status) \(response.text.prefix(200))")
                    if attempt.method(route.method) != "HEAD" {
                        #expect(response.errorCode == "unauthorized", "\(Self.label(route)) with \(attempt.name)")
                    }
                    #expect(response.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
                }
            }
            lines.append("\(Self.label(route).padding(toLength: 40, withPad: " ", startingAt: 0)) \(cells.joined(separator: "  "))")
        }
        let after = (harness.session.builds.count, harness.session.patches(after: 0).count, harness.session.visibleDevices.count,
                     harness.pipeline.calls.count)
        #expect(before == after, "a request without the token changed something: \(before) → \(after)")

        // With the token every protected route gets past auth (the 401s above are auth's, not
        // the route's own): an unknown id is a 404, a bad body a 400 — never a 401.
        let bearer = [("Authorization", "Bearer \(Self.token)")]
        for route in table where Self.label(route) != "GET /api/events" {
            let response = try Self.send(app.port, route.method.rawValue, Self.path(for: route.pattern), headers: bearer)
            #expect(response.status != 401, "\(Self.label(route)) with the token: \(response.status)")
        }
        let stream = try SSETestClient(port: app.port, path: "/api/events?token=\(Self.token)")
        #expect(stream.status == 200)

        print("""
            LAN mode, every registered route without the right token (\(Self.attempts.map(\.name).joined(separator: " | "))):
            \(lines.joined(separator: "\n"))
            """)
    }

    @Test func unknownAPIPathsNeedTheTokenTooButOtherUnknownPathsAreOpen404s() throws {
        try withTestApp(lanToken: Self.token) { app, _ in
            for path in ["/api/nothing-here", "//api//status", "/api", "/api/"] {
                let status = try TestHTTPClient.get(port: app.port, path).status
                #expect(status == 401, "\(path)")
            }
            // Outside /api an unknown path is the static fallback's 404, which tells nothing.
            for path in ["/nothing-here", "/apis"] {
                let status = try TestHTTPClient.get(port: app.port, path).status
                #expect(status == 404, "\(path)")
            }
        }
    }

    @Test func theTokenMatchesExactlyWhateverTheGuessLength() {
        let token = Self.token
        #expect(BearerTokenAuth.constantTimeEquals(token, token))
        for guess in ["", "l", String(token.dropLast()), token + "x", token.uppercased(), String(token.reversed()),
                      String(repeating: "a", count: token.utf8.count), token + "\0"] {
            #expect(!BearerTokenAuth.constantTimeEquals(guess, token), "\(guess)")
        }
        #expect(!BearerTokenAuth.constantTimeEquals("anything", ""))
        #expect(BearerTokenAuth.constantTimeEquals("", ""))
    }
}
