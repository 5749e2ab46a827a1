import DevServer
import HTTP
import Synchronization
import Foundation
import Testing

/// Deferred and async responses: the connection waits suspended while others are served.
@Suite struct DeferredResponseTests {
    @Test func parkedRequestDoesNotBlockOthersAndFinishesWhenAnswered() throws {
        try withTestApp { app, routes in
            let result = Mutex<TestResponse?>(nil)
            let done = DispatchSemaphore(value: 0)
            let port = app.port
            Thread.detachNewThread {
                let response = try? TestHTTPClient.get(port: port, "/api/test/parked")
                result.withLock { $0 = response }
                done.signal()
            }
            #expect(eventually { routes.parked.count == 1 })
            // While the parked request waits, other requests are answered.
            for _ in 0..<20 {
                #expect(try TestHTTPClient.get(port: app.port, "/healthz").status == 200)
            }
            #expect(result.withLock { $0 } == nil)
            routes.parked.releaseAll(with: ["released": true])
            #expect(done.wait(timeout: .now() + 5) == .success)
            let response = try #require(result.withLock { $0 })
            #expect(response.status == 200)
            #expect(try response.json() == ["released": true])
        }
    }

    @Test func manyParkedRequestsAllComplete() throws {
        try withTestApp { app, routes in
            let group = DispatchGroup()
            let statuses = Mutex<[Int]>([])
            let port = app.port
            for _ in 0..<50 {
                group.enter()
                Thread.detachNewThread {
                    let status = (try? TestHTTPClient.get(port: port, "/api/test/parked"))?.status ?? -1
                    statuses.withLock { $0.append(status) }
                    group.leave()
                }
            }
            #expect(eventually { routes.parked.count == 50 })
            routes.parked.releaseAll(with: ["ok": true])
            #expect(group.wait(timeout: .now() + 10) == .success)
            #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 50))
        }
    }

    @Test func unansweredDeferredRequestTimesOutWith504() throws {
        try withTestApp { app, _ in
            let response = try TestHTTPClient.get(port: app.port, "/api/test/timeout")
            #expect(response.status == 504)
            #expect(response.errorCode == "timeout")
        }
    }

    @Test func shutdownAnswersParkedRequestsWith503() throws {
        let routes = TestRoutes()
        let app = DevServerApp(configuration: DevServerConfiguration(port: 0), routes: [routes])
        try app.start()
        let result = Mutex<TestResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        let port = app.port
        Thread.detachNewThread {
            result.withLock { $0 = try? TestHTTPClient.get(port: port, "/api/test/parked") }
            done.signal()
        }
        #expect(eventually { routes.parked.count == 1 })
        app.shutdown()
        #expect(done.wait(timeout: .now() + 5) == .success)
        let response = try #require(result.withLock { $0 })
        #expect(response.status == 503)
        #expect(response.errorCode == "shutting_down")
        // Answering after shutdown is a harmless no-op.
        routes.parked.releaseAll(with: ["late": true])
        #expect(throws: (any Error).self) { try TestSocket(port: port) }
    }

    @Test func offThreadRoutesRunOnTheWorkerThreadsAndAnswerWithTheirResultOrError() throws {
        try withTestApp { app, _ in
            let answer = try TestHTTPClient.get(port: app.port, "/api/test/off-thread")
            #expect(answer.status == 200)
            #expect(try answer.json()["onWorker"] == true, "\(answer.text)")
            #expect(try TestHTTPClient.get(port: app.port, "/api/test/on-worker").json()["onWorker"] == false, "others run on the server's thread")
            let failed = try TestHTTPClient.get(port: app.port, "/api/test/off-thread-fails")
            #expect(failed.status == 409)
            #expect(failed.errorCode == "busy")
        }
    }

    @Test func offThreadWorkMayEndInALongPoll() throws {
        try withTestApp { app, routes in
            let poll = BackgroundGet(port: app.port, "/api/test/off-thread-poll/k1")
            #expect(eventually { routes.pollWaiters.count == 1 }, "the poll was not parked after its off-thread part")
            #expect(try TestHTTPClient.post(port: app.port, "/api/test/poll/k1", json: #"{"message":"hello"}"#).status == 204)
            let response = try #require(poll.wait()?.response)
            #expect(try response.json() == ["message": "hello"])
        }
    }

    @Test func responderAnswersOnlyOnce() throws {
        try withTestApp { app, routes in
            let parked = BackgroundGet(port: app.port, "/api/test/parked")
            #expect(eventually { routes.parked.count == 1 })
            routes.parked.releaseAll(with: ["first": true])
            let response = try #require(parked.wait()?.response)
            #expect(try response.json() == ["first": true])
        }
    }
}
