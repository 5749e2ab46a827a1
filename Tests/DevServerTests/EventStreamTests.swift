import DevServer
import HTTP
import Foundation
import Synchronization
import Testing

/// `GET /api/events` against a real server: order, ids, replay, filters, heartbeats, slow
/// subscribers and shutdown.
@Suite struct EventStreamTests {
    /// Connects and waits until the hub has registered the subscription (so no publish races it).
    static func subscribe(
        _ app: DevServerApp,
        path: String = "/api/events",
        headers: [(String, String)] = [],
        receiveBuffer: Int32? = nil
    ) throws -> SSETestClient {
        let expectedSubscribers = app.events.subscriberCount + 1
        let client = try SSETestClient(port: app.port, path: path, headers: headers, receiveBuffer: receiveBuffer)
        #expect(client.status == 200)
        #expect(client.headers.first { $0.name.lowercased() == "content-type" }?.value == "text/event-stream")
        #expect(eventually { app.events.subscriberCount == expectedSubscribers })
        return client
    }

    @Test func subscriberReceivesPublishedEventsInOrderWithIncreasingIds() throws {
        try withTestApp { app, _ in
            let client = try Self.subscribe(app)
            var published: [UInt64] = []
            for number in 1...5 {
                published.append(app.events.publish("build.progress", ["phase": "compile", "step": JSONValue(number)]))
            }
            var received: [ReceivedEvent] = []
            for _ in 1...5 { received.append(try #require(try client.next())) }
            #expect(received.map(\.id) == published.map { String($0) })
            #expect(received.allSatisfy { $0.name == "build.progress" })
            #expect(try received.map { try JSONValue.parse($0.data)["step"] } == (1...5).map { JSONValue($0) })
            #expect(zip(published, published.dropFirst()).allSatisfy { $0 < $1 })
            #expect(client.retry == "2000")
        }
    }

    @Test func lastEventIDReplaysExactlyTheMissedEvents() throws {
        try withTestApp { app, _ in
            let first = try Self.subscribe(app)
            for number in 1...3 { app.events.publish("patch.progress", ["n": JSONValue(number)]) }
            let seen = try (1...3).map { _ in try #require(try first.next()) }
            let lastSeen = try #require(seen.last?.id)
            // The client goes away; events keep coming.
            first.socket.shutdownWrite()
            for number in 4...7 { app.events.publish("patch.progress", ["n": JSONValue(number)]) }

            let resumed = try Self.subscribe(app, headers: [("Last-Event-ID", lastSeen)])
            let replayed = try (4...7).map { _ in try #require(try resumed.next()) }
            #expect(try replayed.map { try JSONValue.parse($0.data)["n"] } == (4...7).map { JSONValue($0) })
            // Then live events follow, without a gap or a duplicate.
            let live = app.events.publish("patch.succeeded", ["n": 8])
            let next = try #require(try resumed.next())
            #expect(next.id == String(live))
            #expect(next.name == "patch.succeeded")
        }
    }

    @Test func lastEventIdQueryParameterWorksLikeTheHeader() throws {
        try withTestApp { app, _ in
            let ids = (1...6).map { app.events.publish("device.registered", ["n": JSONValue($0)]) }
            let client = try Self.subscribe(app, path: "/api/events?lastEventId=\(ids[3])")
            let replayed = try (0..<2).map { _ in try #require(try client.next()) }
            #expect(replayed.map(\.id) == [String(ids[4]), String(ids[5])])
        }
    }

    @Test func replayBeyondTheLogSaysSoFirst() throws {
        let events = EventHub.Configuration(replayLimit: 10)
        try withTestApp(events: events) { app, _ in
            for number in 1...30 { app.events.publish("build.progress", ["n": JSONValue(number)]) }
            let client = try Self.subscribe(app, headers: [("Last-Event-ID", "2")])
            let notice = try #require(try client.next())
            #expect(notice.name == "replay.incomplete")
            #expect(notice.id == nil)
            let kept = app.events.events(after: 0)
            #expect(kept.count >= 10)
            let replayed = try kept.map { _ in try #require(try client.next()) }
            #expect(replayed.map(\.id) == kept.map { String($0.id) })
            #expect(replayed.last?.id == "30")

            let future = try Self.subscribe(app, headers: [("Last-Event-ID", "999")])
            #expect(try future.next()?.name == "replay.incomplete")
        }
    }

    @Test func replayLargerThanTheQueueLimitIsDeliveredWhole() throws {
        let events = EventHub.Configuration(subscriberQueueCapacity: 16 * 1024)
        try withTestApp(events: events) { app, _ in
            let line = String(repeating: "z", count: 2048)
            let ids = (0..<50).map { app.events.publish("build.log", ["n": JSONValue($0), "line": .string(line)]) }
            let client = try Self.subscribe(app, headers: [("Last-Event-ID", "0")])
            let replayed = try ids.map { _ in try #require(try client.next()) }
            #expect(replayed.map(\.id) == ids.map { String($0) })
            let live = app.events.publish("build.succeeded", [:])
            #expect(try client.next()?.id == String(live))
        }
    }

    @Test func invalidLastEventIDIsA400() throws {
        try withTestApp { app, _ in
            let response = try TestHTTPClient.get(port: app.port, "/api/events", headers: [("Last-Event-ID", "abc")])
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_last_event_id")
        }
    }

    @Test func perSubscriberFilterSkipsAndRewritesEvents() throws {
        // A stand-in for `?device=ID`: keep that device's events, rewrite jump tables for it.
        let filterProvider: DevServerApp.EventFilterProvider = { request in
            guard let device = request.query["device"] else { return nil }
            guard device.hasPrefix("d") else { throw HTTPError.notFound("device", id: device) }
            return { event in
                if event.name == "jump-table" {
                    return ServerEvent(id: event.id, name: event.name, data: ["for": .string(device)])
                }
                return event.data["device"]?.stringValue == device ? event : nil
            }
        }
        try withTestApp(eventFilter: filterProvider) { app, _ in
            #expect(try TestHTTPClient.get(port: app.port, "/api/events?device=zzz").status == 404)
            let device = try Self.subscribe(app, path: "/api/events?device=d1")
            let everyone = try Self.subscribe(app)
            app.events.publish("device.applied", ["device": "d2"])
            let mine = app.events.publish("device.applied", ["device": "d1"])
            let table = app.events.publish("jump-table", ["patchId": 1])

            let first = try #require(try device.next())
            #expect(first.id == String(mine))
            let second = try #require(try device.next())
            #expect(second.id == String(table))
            #expect(try JSONValue.parse(second.data) == ["for": "d1"])

            let all = try (0..<3).map { _ in try #require(try everyone.next()) }
            #expect(try JSONValue.parse(all[2].data) == ["patchId": 1])
        }
    }

    @Test func heartbeatsArriveOnIdleStreams() throws {
        try withTestApp(events: EventHub.Configuration(heartbeatInterval: .milliseconds(50))) { app, _ in
            let client = try Self.subscribe(app)
            // A heartbeat is a comment, not an event; reading the next real event collects them.
            Thread.sleep(forTimeInterval: 0.3)
            let id = app.events.publish("build.queued", [:])
            #expect(try client.next()?.id == String(id))
            #expect(client.comments.filter { $0 == "heartbeat" }.count >= 2)
        }
    }

    @Test func stalledSubscriberIsDroppedWithoutDelayingTheOthers() throws {
        let events = EventHub.Configuration(replayLimit: 100, subscriberQueueCapacity: 64 * 1024)
        try withTestApp(events: events) { app, _ in
            // Never reads, and has a tiny receive buffer.
            let stalled = try Self.subscribe(app, receiveBuffer: 4096)
            let healthy = try Self.subscribe(app)

            let total = 1200
            let payload = String(repeating: "x", count: 8 * 1024)
            let received = Mutex<[String]>([])
            let finished = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                while received.withLock({ $0.count }) < total, let event = try? healthy.next(timeout: .seconds(10)) {
                    received.withLock { $0.append(event.id ?? "") }
                }
                finished.signal()
            }
            // The healthy client reads as fast as it can; the publisher only keeps each burst
            // within that client's queue (a burst beyond it would rightly drop it too).
            var ids: [String] = []
            for number in 0..<total {
                ids.append(String(app.events.publish("build.log", ["n": JSONValue(number), "line": .string(payload)])))
                if number % 4 == 3 {
                    #expect(eventually { received.withLock { $0.count } > number })
                }
            }
            #expect(finished.wait(timeout: .now() + 30) == .success)
            #expect(received.withLock { $0 } == ids)
            // ~10 MB went out; the stalled client could hold far less, so it was dropped.
            #expect(eventually { app.events.subscriberCount == 1 })

            // When it finally reads, it gets a prefix of the stream and then the connection ends.
            var stalledIDs: [String] = []
            while let event = try? stalled.next(timeout: .seconds(10)) { stalledIDs.append(event.id ?? "") }
            #expect(stalledIDs.count < total)
            #expect(stalledIDs == Array(ids.prefix(stalledIDs.count)))
        }
    }

    @Test func concurrentPublishersProduceUniqueIdsSeenInOrder() throws {
        try withTestApp { app, _ in
            let client = try Self.subscribe(app)
            let group = DispatchGroup()
            for thread in 0..<4 {
                group.enter()
                Thread.detachNewThread {
                    for number in 0..<50 { app.events.publish("build.progress", ["t": JSONValue(thread), "n": JSONValue(number)]) }
                    group.leave()
                }
            }
            #expect(group.wait(timeout: .now() + 10) == .success)
            let received = try (0..<200).map { _ in try #require(try client.next()) }
            let ids = received.compactMap { $0.id.flatMap { UInt64($0) } }
            #expect(ids == ids.sorted())
            #expect(Set(ids).count == 200)
            #expect(app.events.lastEventID == ids.last)
        }
    }

    @Test func shutdownEndsEveryStreamWithAFinalEvent() throws {
        let app = DevServerApp(configuration: DevServerConfiguration(port: 0))
        try app.start()
        let port = app.port
        let first = try Self.subscribe(app)
        let second = try Self.subscribe(app)
        app.events.publish("patch.started", ["patch": 1])
        app.shutdown(reason: "test over")

        for client in [first, second] {
            let events = try client.remaining()
            #expect(events.map(\.name) == ["patch.started", "server.shutdown"])
            #expect(try JSONValue.parse(try #require(events.last).data) == ["reason": "test over"])
        }
        #expect(app.server.openStreamCount == 0)
        #expect(!app.server.isRunning)
        #expect(throws: (any Error).self) { try TestSocket(port: port) }
        // Subscribing after shutdown is refused by the hub too.
        #expect(throws: HTTPError.self) { try app.events.subscribe(lastEventID: nil) }
    }

    @Test func shutdownDoesNotWaitForeverOnAStalledSubscriber() throws {
        let events = EventHub.Configuration(subscriberQueueCapacity: 4 << 20)
        let app = DevServerApp(configuration: {
            var configuration = DevServerConfiguration(port: 0, events: events)
            configuration.http.shutdownGracePeriod = .milliseconds(300)
            return configuration
        }(), events: EventHub(configuration: events))
        try app.start()
        let stalled = try Self.subscribe(app, receiveBuffer: 4096)
        let payload = String(repeating: "y", count: 16 * 1024)
        for _ in 0..<200 { app.events.publish("build.log", ["line": .string(payload)]) }
        let started = ContinuousClock.now
        app.shutdown()
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(!app.server.isRunning)
        _ = stalled
    }
}
