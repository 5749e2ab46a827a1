import DevServer
import HTTP
import Foundation
import Synchronization
import Testing

/// Long polls through `Waiters`, conditional responses, and libmicrohttpd's connection limits.
@Suite struct LongPollAndLimitsTests {
    @Test func longPollAnswersWhenNotifiedAndOthersKeepFlowing() throws {
        try withTestApp { app, routes in
            let port = app.port
            let result = Mutex<TestResponse?>(nil)
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                result.withLock { $0 = try? TestHTTPClient.get(port: port, "/api/test/poll/d1?wait=30") }
                done.signal()
            }
            #expect(eventually { routes.pollWaiters.count == 1 })
            // A message for another key does not wake it.
            #expect(try TestHTTPClient.post(port: port, "/api/test/poll/d2", json: #"{"message": "other"}"#).status == 204)
            #expect(try TestHTTPClient.get(port: port, "/healthz").status == 200)
            #expect(done.wait(timeout: .now() + 0.2) == .timedOut)
            #expect(try TestHTTPClient.post(port: port, "/api/test/poll/d1", json: #"{"message": "patch 3"}"#).status == 204)
            #expect(done.wait(timeout: .now() + 5) == .success)
            let response = try #require(result.withLock { $0 })
            #expect(try response.json() == ["message": "patch 3"])
            #expect(routes.pollWaiters.count == 0)
        }
    }

    @Test func longPollWithSomethingPendingAnswersAtOnce() throws {
        try withTestApp { app, _ in
            #expect(try TestHTTPClient.post(port: app.port, "/api/test/poll/d1", json: #"{"message": "ready"}"#).status == 204)
            let response = try TestHTTPClient.get(port: app.port, "/api/test/poll/d1?wait=30")
            #expect(try response.json() == ["message": "ready"])
        }
    }

    @Test func longPollTimesOutWithItsOwnEmptyAnswer() throws {
        try withTestApp { app, routes in
            let response = try TestHTTPClient.get(port: app.port, "/api/test/poll/d9?wait=1")
            #expect(response.status == 200)
            #expect(try response.json() == ["message": nil])
            #expect(eventually { routes.pollWaiters.count == 0 })
            let immediate = try TestHTTPClient.get(port: app.port, "/api/test/poll/d9?wait=0")
            #expect(try immediate.json() == ["message": nil])
        }
    }

    @Test func etagTurnsAMatchingConditionalRequestInto304() throws {
        try withTestApp { app, _ in
            let full = try TestHTTPClient.get(port: app.port, "/api/test/etag")
            #expect(full.status == 200)
            #expect(full.header("ETag") == "\"abc123\"")
            #expect(full.text == "library bytes")
            let cached = try TestHTTPClient.get(port: app.port, "/api/test/etag", headers: [("If-None-Match", "\"zzz\", \"abc123\"")])
            #expect(cached.status == 304)
            #expect(cached.body.isEmpty)
            let stale = try TestHTTPClient.get(port: app.port, "/api/test/etag", headers: [("If-None-Match", "\"old\"")])
            #expect(stale.status == 200)
        }
    }

    @Test func perIPConnectionLimitRefusesTheExtraConnection() throws {
        var configuration = HTTPServerConfiguration(port: 0)
        configuration.perIPConnectionLimit = 2
        var router = Router()
        router.get("/healthz") { _ in .json(["status": "ok"]) }
        let server = HTTPServer(configuration: configuration, router: router)
        try server.start()
        defer { server.stop() }
        let first = try TestSocket(port: server.port)
        let second = try TestSocket(port: server.port)
        // The kernel accepts the third TCP connection; libmicrohttpd then closes it unanswered.
        let third = try TestSocket(port: server.port)
        try? third.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let refused = (try? third.receiveAll(timeout: .seconds(5))) ?? []
        #expect(refused.isEmpty)
        try first.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(try TestHTTPClient.parse(first.receiveAll(timeout: .seconds(5))).status == 200)
        _ = second
    }

    @Test func idleConnectionsAreClosedAfterTheTimeout() throws {
        var configuration = HTTPServerConfiguration(port: 0)
        configuration.connectionTimeoutSeconds = 1
        let server = HTTPServer(configuration: configuration, router: Router())
        try server.start()
        defer { server.stop() }
        let idle = try TestSocket(port: server.port)
        // Sends nothing; the server hangs up by itself (well before the 10 s read timeout).
        let started = ContinuousClock.now
        #expect(try idle.receiveAll(timeout: .seconds(10)).isEmpty)
        #expect(ContinuousClock.now - started < .seconds(8))
    }

    @Test func threadPoolModeServesConcurrentRequestsAndStreams() throws {
        var configuration = HTTPServerConfiguration(port: 0)
        configuration.threadCount = 4
        let events = EventHub()
        var router = Router()
        router.get("/healthz") { _ in .json(["status": "ok"]) }
        router.get("/api/events") { request in try events.subscribe(request) }
        let server = HTTPServer(configuration: configuration, router: router)
        try server.start()
        let subscriber = try SSETestClient(port: server.port)
        #expect(eventually { events.subscriberCount == 1 })
        let group = DispatchGroup()
        let statuses = Mutex<[Int]>([])
        let port = server.port
        for _ in 0..<40 {
            group.enter()
            Thread.detachNewThread {
                let status = (try? TestHTTPClient.get(port: port, "/healthz"))?.status ?? -1
                statuses.withLock { $0.append(status) }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 10) == .success)
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 40))
        let id = events.publish("build.queued", ["id": "b1"])
        #expect(try subscriber.next()?.id == String(id))
        server.stopAccepting()
        events.shutdown()
        server.stop()
        #expect(try subscriber.remaining().map(\.name) == ["server.shutdown"])
    }
}
