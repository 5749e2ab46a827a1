@testable import DevServer
import Foundation
import HTTP
import Synchronization
import Testing

/// Nothing slow runs on libmicrohttpd's one thread (issue 14): while a diff of two large binaries
/// runs — seconds of parsing on a worker thread — a live server still answers `/healthz`, sends
/// SSE events and answers device long polls within 50 ms.
///
/// The server is the real one (`DevServerApp`, `ProjectRoutes`, the event hub) over a session
/// whose jobs are scripted (`FakePipeline`: a patch takes microseconds) but whose diff is the live
/// pipeline's, on rustc's own driver library (≈150 MB, tens of thousands of symbols).
@Suite(.serialized) struct HTTPThreadBlockingTests {
    static let limit: Duration = .milliseconds(50)

    /// A large rustc-built binary: the toolchain's `librustc_driver` (≈150 MB, ~100k symbols).
    /// Compared with itself the answer stays small (every function kept) while parsing both
    /// copies still takes seconds.
    static func largeBinary() throws -> String {
        let rustc = Process()
        rustc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        rustc.arguments = ["rustc", "--print", "sysroot"]
        let pipe = Pipe()
        rustc.standardOutput = pipe
        try rustc.run()
        rustc.waitUntilExit()
        let sysroot = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sysroot + "/lib")) ?? []
        let driver = try #require(
            names.first { $0.hasPrefix("librustc_driver-") && $0.hasSuffix(".so") }, "rustc's sysroot \(sysroot) has no librustc_driver")
        return sysroot + "/lib/" + driver
    }

    /// `source` at `destination`: a hard link when the file system allows (no 150 MB copy).
    static func place(_ source: String, at destination: String) throws {
        try FileManager.default.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if link(source, destination) != 0 {
            try FileManager.default.copyItem(atPath: source, toPath: destination)
        }
    }

    /// What one round measured, each from the moment its cause was sent.
    struct Round {
        var healthz: Duration
        var event: Duration
        var longPoll: Duration
    }

    @Test func aSlowDiffHoldsUpNoHealthCheckEventOrLongPoll() throws {
        let harness = try SessionHarness()
        let source = try Self.largeBinary()
        // One in the project (named relative to it), one in the cache dir (named absolute).
        try Self.place(source, at: harness.configuration.project.path + "/large/old.so")
        let newPath = harness.configuration.cacheDirectory.path + "/large/new.so"
        try Self.place(source, at: newPath)
        try harness.build()

        // When each patch finished: the moment there was something to send. Observed first, so
        // the instant is taken before the event is published and before the long polls wake.
        let finished = Mutex<[Int: ContinuousClock.Instant]>([:])
        harness.session.observe { event in
            if case .patch(.finished, let record) = event { finished.withLock { $0[record.id] = ContinuousClock.now } }
        }
        let events = EventHub()
        harness.session.observe(SessionEventPublisher(hub: events, json: RecordJSON(configuration: harness.configuration)).publish)
        let routes = ProjectRoutes(session: harness.session)
        let app = DevServerApp(
            configuration: DevServerConfiguration(port: 0), events: events, status: { routes.statusJSON() }, routes: [routes],
            eventFilter: { try routes.eventFilter(for: $0) })
        try app.start()
        defer { app.shutdown() }
        let port = app.port

        // A device of the build, registered as the runtime does, and a subscriber to the events.
        let registration = try TestHTTPClient.post(
            port: port, "/api/devices",
            json: #"{"name":"poller","pid":7,"triple":"x86_64-unknown-linux-gnu","aslrReference":"0x555500001000"}"#)
        #expect(registration.status == 201)
        let device = try #require(try registration.json()["id"]?.stringValue)
        let subscriber = try SSETestClient(port: port)
        #expect(subscriber.status == 200)

        // One round before the diff, unmeasured: the first patch, poll and event of a process pay
        // for code and caches touched for the first time.
        var lastPatch = try Self.patchAndPoll(harness: harness, port: port, device: device, subscriber: subscriber, routes: routes, after: 0).patch

        let diff = Mutex<(response: TestResponse?, error: String?, took: Duration)?>(nil)
        let diffDone = DispatchSemaphore(value: 0)
        let diffStarted = ContinuousClock.now
        Thread.detachNewThread {
            let body = #"{"old":"large/old.so","new":"\#(newPath)"}"#
            var outcome: (response: TestResponse?, error: String?, took: Duration)
            do {
                let response = try TestHTTPClient.request(
                    port: port, "POST", "/api/diffs", headers: [("Content-Type", "application/json")], body: Array(body.utf8),
                    timeout: .seconds(300))
                outcome = (response, nil, .zero)
            } catch {
                outcome = (nil, "\(error)", .zero)
            }
            outcome.took = ContinuousClock.now - diffStarted
            diff.withLock { $0 = outcome }
            diffDone.signal()
        }
        #expect(eventually(timeout: .seconds(30)) { harness.pipeline.diffsRunning == 1 }, "the diff never started")

        var rounds: [Round] = []
        while rounds.count < 8, harness.pipeline.diffsRunning == 1 {
            let started = ContinuousClock.now
            let health = try TestHTTPClient.get(port: port, "/healthz")
            let healthz = ContinuousClock.now - started
            #expect(health.status == 200)
            let delivered = try Self.patchAndPoll(
                harness: harness, port: port, device: device, subscriber: subscriber, routes: routes, after: lastPatch)
            lastPatch = delivered.patch
            let finishedAt = try #require(finished.withLock { $0[delivered.patch] }, "patch \(delivered.patch) did not finish")
            // Every round starts while the diff runs (the loop's condition): were the HTTP thread
            // busy with it, the round's answers would wait for its end.
            rounds.append(Round(healthz: healthz, event: delivered.eventAt - finishedAt, longPoll: delivered.pollAt - finishedAt))
            Thread.sleep(forTimeInterval: 0.1)
        }

        #expect(diffDone.wait(timeout: .now() + 300) == .success, "the diff did not finish")
        let outcome = try #require(diff.withLock { $0 })
        let response = try #require(outcome.response, "POST /api/diffs failed: \(outcome.error ?? "")")
        #expect(response.status == 200, "\(response.text.prefix(300))")
        let summary = try response.json()["summary"]?.stringValue
        print("""
            HTTP thread while POST /api/diffs ran (\(outcome.took), \(response.body.count) bytes answered, \
            "\(summary ?? "?")"):
              round  healthz  SSE event  long poll
            \(rounds.enumerated().map { index, round in
                "  \(index + 1)      \(Self.ms(round.healthz))  \(Self.ms(round.event))    \(Self.ms(round.longPoll))"
            }.joined(separator: "\n"))
            """)
        #expect(outcome.took > .seconds(1), "the diff was too quick (\(outcome.took)) to show anything")
        #expect(rounds.count >= 2, "only \(rounds.count) rounds measured while the diff ran")
        for (index, round) in rounds.enumerated() {
            #expect(round.healthz <= Self.limit, "round \(index + 1): /healthz took \(round.healthz)")
            #expect(round.event <= Self.limit, "round \(index + 1): the SSE event took \(round.event)")
            #expect(round.longPoll <= Self.limit, "round \(index + 1): the long poll took \(round.longPoll)")
        }
    }

    /// Parks a long poll of `device` for patches after `after`, makes the next patch, and reads
    /// the `patch.succeeded` event: when the poll's answer and the event arrived.
    static func patchAndPoll(
        harness: SessionHarness, port: UInt16, device: String, subscriber: SSETestClient, routes: ProjectRoutes, after: Int
    ) throws -> (patch: Int, pollAt: ContinuousClock.Instant, eventAt: ContinuousClock.Instant) {
        let poll = BackgroundGet(port: port, "/api/devices/\(device)/patches?after=\(after)&wait=30")
        #expect(eventually { routes.parked.devicePolls.count == 1 }, "the long poll was not parked")
        let patch = try harness.session.enqueuePatch(trigger: .api)
        var eventAt: ContinuousClock.Instant?
        while eventAt == nil, let event = try subscriber.next(timeout: .seconds(10)) {
            if event.name == "patch.succeeded", (try? JSONValue.parse(Array(event.data.utf8)))?["id"]?.intValue == Int64(patch) {
                eventAt = ContinuousClock.now
            }
        }
        let answered = try #require(poll.wait(timeout: 10), "the long poll was not answered")
        #expect(answered.response?.status == 200)
        #expect(try answered.response?.json()["patches"]?[0]?["id"]?.intValue == Int64(patch), "the poll got patch \(patch)")
        return (patch, answered.at, try #require(eventAt, "no patch.succeeded event for patch \(patch)"))
    }

    /// `POST /api/patches?wait=true` for a process the patch job did not link: its library is
    /// linked once the patch is done, off the session's event executor — which woke the wait, and
    /// which every SSE event passes through. While that link is held, events still flow.
    @Test func aWaitedPatchForAnotherProcessLinksWithoutHoldingUpEvents() throws {
        let harness = try SessionHarness(linkMode: .perDevice)
        try harness.build()
        let events = EventHub()
        harness.session.observe(SessionEventPublisher(hub: events, json: RecordJSON(configuration: harness.configuration)).publish)
        let routes = ProjectRoutes(session: harness.session)
        let app = DevServerApp(configuration: DevServerConfiguration(port: 0), events: events, routes: [routes])
        try app.start()
        defer { app.shutdown() }
        let subscriber = try SSETestClient(port: app.port)

        let reference: UInt64 = 0x5555_0000_2000
        let held = harness.pipeline.hold(.link(patch: 1, aslrReference: reference))
        defer { held.open() }  // whatever fails below, the link (and so the shutdown) can end
        let answer = Mutex<TestResponse?>(nil)
        let answered = DispatchSemaphore(value: 0)
        let port = app.port
        Thread.detachNewThread {
            let body = #"{"aslrReference":"0x555500002000"}"#
            let response = try? TestHTTPClient.post(port: port, "/api/patches?wait=true", json: body)
            answer.withLock { $0 = response }
            answered.signal()
        }
        #expect(held.waitUntilReached(timeout: .seconds(10)), "the library for that process was never linked")
        // The link waits at the gate; a device's log line still becomes an event at once.
        let device = try harness.register("logger", at: 0x5555_0000_1000).id
        try harness.session.recordLogs(deviceId: device, DeviceLogBatch(lines: [DeviceLogLine(stream: .stdout, text: "still here")]))
        var logged = false
        while !logged, let event = try subscriber.next(timeout: .seconds(5)) {
            logged = event.name == "device.log" && event.data.contains("still here")
        }
        #expect(logged, "no device.log event while the link was held")
        let early = answer.withLock { $0 }
        #expect(early == nil, "answered before its library was linked")
        held.open()

        #expect(answered.wait(timeout: .now() + 10) == .success)
        let response = try #require(answer.withLock { $0 })
        #expect(response.status == 200, "\(response.text.prefix(300))")
        #expect(try response.json()["library"]?["aslrReference"]?.stringValue == "0x555500002000", "the answer is for that process")
    }

    /// A build's binary is sent from the file as the client reads it (no copy of tens of MB in
    /// memory, none on the HTTP thread): the bytes arrive whole, and a removed file is a 410.
    @Test func aBuildsBinaryIsSentFromDisk() throws {
        let harness = try SessionHarness()
        let build = try harness.build()
        let binary = try #require(harness.session.buildRecord(build.rawValue)?.build?.binary)
        try FileManager.default.createDirectory(atPath: (binary as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        #expect(FileManager.default.createFile(atPath: binary, contents: Data(bytes)))
        let app = DevServerApp(configuration: DevServerConfiguration(port: 0), routes: [ProjectRoutes(session: harness.session)])
        try app.start()
        defer { app.shutdown() }

        let response = try TestHTTPClient.get(port: app.port, "/api/builds/\(build.rawValue)/binary")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == MediaType.octetStream)
        #expect(response.header("Content-Disposition") == "attachment; filename=\"app\"")
        #expect(response.body == bytes, "\(response.body.count) of \(bytes.count) bytes")
        try FileManager.default.removeItem(atPath: binary)
        let gone = try TestHTTPClient.get(port: app.port, "/api/builds/\(build.rawValue)/binary")
        #expect(gone.status == 410)
        #expect(gone.errorCode == "binary_missing")
    }

    /// The routes whose work can take more than a millisecond or two — files read, binaries
    /// parsed, the linker run, the patch counter written — and only those run off the thread.
    static let offThreadRoutes: Set<String> = [
        "POST /api/diffs", "GET /api/symbols", "GET /api/builds/{id}/binary", "GET /api/builds/{id}/log",
        "POST /api/builds/{id}/revert", "POST /api/patches", "POST /api/patches/{id}/revert",
        "GET /api/patches/{id}/library", "GET /api/patches/{id}/jump-table", "POST /api/devices",
    ]

    @Test func theSlowRoutesAreTheOnesRunOffTheThread() throws {
        let harness = try SessionHarness()
        let router = DevServerApp.makeRouter(configuration: DevServerConfiguration(port: 0), routes: [ProjectRoutes(session: harness.session)])
        let registered = Set(router.routes.filter { $0.execution == .offThread }.map { "\($0.method) \($0.pattern.text)" })
        #expect(registered == Self.offThreadRoutes)
    }

    static func ms(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%6.2f ms", value)
    }
}
