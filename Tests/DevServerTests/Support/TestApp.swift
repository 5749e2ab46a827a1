import DevServer
import HTTP
import Synchronization
import Foundation

/// Routes only the tests use: echo a JSON body with typed fields, answer later on demand, fail.
struct TestRoutes: RouteCollection {
    /// Deferred requests parked by `GET /api/test/parked`, released by the test.
    let parked = ParkedResponders()
    /// Long polls on `/api/test/poll/{key}` wait for a message posted to the same path.
    let pollWaiters = Waiters<String>()
    let mailbox = Mailbox()

    func register(on router: inout Router) {
        router.post("/api/test/echo") { request in
            let body = try request.jsonFields()
            let pid = try body.int("pid", as: Int32.self)
            let name = try body.optionalString("name") ?? "unnamed"
            return .json(["pid": JSONValue(pid), "name": .string(name), "bytes": JSONValue(request.body.count)], status: .created)
        }
        router.get("/api/test/parked") { [parked] _ in
            .deferred(timeout: .seconds(30)) { responder in parked.add(responder) }
        }
        router.get("/api/test/timeout") { _ in
            .deferred(timeout: .milliseconds(200)) { _ in }
        }
        router.get("/api/test/crash") { _ in
            struct Unexpected: Error {}
            throw Unexpected()
        }
        router.get("/api/test/poll/{key}") { [pollWaiters, mailbox] request in
            let key = try request.pathParameter("key")
            let wait = try request.query.int("wait", in: 0...60) ?? 0
            return pollWaiters.wait(
                for: key,
                timeout: .seconds(wait),
                onTimeout: { .json(["message": nil]) },
                ready: {
                    mailbox.values.withLock { $0.removeValue(forKey: key) }.map { .json(["message": .string($0)]) }
                }
            )
        }
        router.post("/api/test/poll/{key}") { [pollWaiters, mailbox] request in
            let key = try request.pathParameter("key")
            let message = try request.jsonFields().string("message")
            mailbox.values.withLock { $0[key] = message }
            pollWaiters.notify(key)
            return .noContent
        }
        router.get("/api/test/off-thread", runs: .offThread) { _ in
            .json(["onWorker": .bool(WorkerThreads.shared.ownsCurrentThread)])
        }
        router.get("/api/test/off-thread-fails", runs: .offThread) { _ in
            throw HTTPError(.conflict, code: "busy", message: "thrown on a worker thread")
        }
        // Off the thread first, then parked like a long poll: the deferred answer hands on.
        router.get("/api/test/off-thread-poll/{key}", runs: .offThread) { [pollWaiters, mailbox] request in
            let key = try request.pathParameter("key")
            return pollWaiters.wait(
                for: key, timeout: .seconds(30), onTimeout: { .json(["message": nil]) },
                ready: { mailbox.values.withLock { $0.removeValue(forKey: key) }.map { .json(["message": .string($0)]) } })
        }
        router.get("/api/test/on-worker") { _ in
            .json(["onWorker": .bool(WorkerThreads.shared.ownsCurrentThread)])
        }
        router.get("/api/test/etag") { request in
            Response.text("library bytes").withETag("abc123", for: request)
        }
        router.get("/api/test/query") { request in
            .json(["since": JSONValue(try request.query.int("since") ?? -1), "wait": .bool(try request.query.bool("wait") ?? false)])
        }
    }
}

/// A GET sent from a thread of its own, for requests that wait (parked requests, long polls).
final class BackgroundGet: Sendable {
    private let result = Mutex<(response: TestResponse?, at: ContinuousClock.Instant)?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(port: UInt16, _ target: String) {
        Thread.detachNewThread { [self] in
            let response = try? TestHTTPClient.get(port: port, target)
            result.withLock { $0 = (response, .now) }
            done.signal()
        }
    }

    /// The response (`nil` inside when the request failed) and when it arrived; `nil` when it
    /// did not come within `timeout` seconds.
    func wait(timeout: TimeInterval = 5) -> (response: TestResponse?, at: ContinuousClock.Instant)? {
        guard done.wait(timeout: .now() + timeout) == .success else { return nil }
        return result.withLock { $0 }
    }
}

/// Messages posted to `/api/test/poll/{key}`.
final class Mailbox: Sendable {
    let values = Mutex<[String: String]>([:])
}

/// Responders handed out by `/api/test/parked`, so a test decides when those requests finish.
final class ParkedResponders: Sendable {
    private let responders = Mutex<[Responder]>([])

    func add(_ responder: Responder) {
        responders.withLock { $0.append(responder) }
    }

    var count: Int { responders.withLock { $0.count } }

    func releaseAll(with value: JSONValue) {
        let all = responders.withLock { list in
            defer { list = [] }
            return list
        }
        for responder in all { responder.respond(.json(value)) }
    }
}

/// Starts a `DevServerApp` on a free port with the test routes, runs `body`, and always shuts
/// the server down.
func withTestApp<Result>(
    lanToken: String? = nil,
    webRoot: String? = nil,
    events: EventHub.Configuration = EventHub.Configuration(),
    eventFilter: @escaping DevServerApp.EventFilterProvider = { _ in nil },
    _ body: (DevServerApp, TestRoutes) throws -> Result
) throws -> Result {
    let routes = TestRoutes()
    let app = DevServerApp(
        configuration: DevServerConfiguration(port: 0, lanToken: lanToken, webRoot: webRoot, events: events),
        status: { ["project": ["name": "test", "path": "/tmp/test"]] },
        routes: [routes],
        eventFilter: eventFilter
    )
    try app.start()
    defer { app.shutdown() }
    return try body(app, routes)
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

/// A scratch directory removed at the end of the test.
final class TemporaryDirectory {
    let path: String

    init() throws {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-test-XXXXXX").path
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw TestSocket.Failure(description: "mkdtemp failed") }
        path = String(cString: made)
    }

    func write(_ relative: String, _ contents: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url, atomically: true, encoding: .utf8)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
