@testable import DevServer
import Foundation
import HTTP
import Testing

/// Device logs: the ring per device (numbering, capacity, resuming with `since`), the session's
/// record and query, and the routes' answers (lines, 404 for an unknown device, 400 for a bad body).
@Suite struct SessionDeviceLogTests {
    static func lines(_ texts: [String], stream: DeviceLogLine.Stream = .stdout) -> [DeviceLogLine] {
        texts.map { DeviceLogLine(stream: stream, text: $0) }
    }

    @Test func theRingNumbersLinesKeepsTheNewestAndSaysWhatAClientMissed() {
        var ring = DeviceLogRing(capacity: 4)
        let at = ManualClock.at(.seconds(1))
        #expect(ring.page(since: 0, limit: 10) == DeviceLogPage(lines: [], lastSeq: 0, missed: 0, dropped: 0))
        let added = ring.append(Self.lines(["a", "b", "c"]), dropped: 2, receivedAt: at)
        #expect(added.map(\.seq) == [1, 2, 3])
        #expect(ring.page(since: 1, limit: 10).lines.map(\.text) == ["b", "c"])
        #expect(ring.page(since: 3, limit: 10).lines.isEmpty && ring.page(since: 3, limit: 10).lastSeq == 3)
        _ = ring.append(Self.lines(["d", "e", "f", "g"]), dropped: 1, receivedAt: at)
        let page = ring.page(since: 0, limit: 10)
        #expect(page.lines.map(\.seq) == [4, 5, 6, 7], "the last 4 only")
        #expect(page.missed == 3 && page.dropped == 3 && page.lastSeq == 7)
        #expect(ring.page(since: 5, limit: 10).missed == 0)
        #expect(ring.page(since: 0, limit: 2).lines.map(\.text) == ["d", "e"], "the oldest first when limited")
        // Memory stays bounded however much comes.
        for n in 0..<1000 { _ = ring.append(Self.lines(["x\(n)"]), dropped: 0, receivedAt: at) }
        #expect(ring.entries.count < 4 + 4 / 4 + 1)
        #expect(ring.page(since: 0, limit: 10).lines.map(\.text) == ["x996", "x997", "x998", "x999"])
    }

    @Test func theSessionKeepsLinesPerDeviceReportsThemAndForgetsARemovedDevice() throws {
        let harness = try SessionHarness()
        let session = harness.session
        try harness.build()
        let one = try harness.register("one", at: 0x5555_0000_1000).id
        let two = try harness.register("two", at: 0x5555_0000_2000).id
        harness.settle()
        harness.clearEvents()

        try session.recordLogs(deviceId: one, DeviceLogBatch(lines: Self.lines(["tick 1", "tick 2"])))
        try session.recordLogs(deviceId: two, DeviceLogBatch(lines: Self.lines(["oops"], stream: .stderr), dropped: 5))
        try session.recordLogs(deviceId: one, DeviceLogBatch(lines: Self.lines(["tick 3"])))
        try session.recordLogs(deviceId: one, DeviceLogBatch(lines: [], dropped: 1))
        #expect(harness.events == ["log \(one)", "log \(two)", "log \(one)"], "a batch of only a count is no event")

        let page = try session.deviceLogs(one, since: 0)
        #expect(page.lines.map(\.text) == ["tick 1", "tick 2", "tick 3"])
        #expect(page.lines.map(\.seq) == [1, 2, 3] && page.lastSeq == 3 && page.dropped == 1)
        #expect(try session.deviceLogs(one, since: 2).lines.map(\.text) == ["tick 3"])
        let other = try session.deviceLogs(two, since: 0)
        #expect(other.lines.map(\.seq) == [1], "numbered per device")
        #expect(other.lines.first?.stream == .stderr && other.dropped == 5)

        #expect(throws: SessionError.self) { try session.deviceLogs("d-nope", since: 0) }
        #expect(throws: SessionError.self) { try session.recordLogs(deviceId: "d-nope", DeviceLogBatch(lines: [])) }
        try session.removeDevice(one)
        #expect(session.read { $0.deviceLogs[one] } == nil)
        #expect(throws: SessionError.self) { try session.deviceLogs(one, since: 0) }
    }

    @Test func theRoutesAnswerLinesNotFoundAndBadRequest() throws {
        let harness = try SessionHarness()
        try harness.build()
        let device = try harness.register("app", at: 0x5555_0000_1000).id
        harness.settle()
        let app = DevServerApp(
            configuration: DevServerConfiguration(port: 0), status: { [:] }, routes: [ProjectRoutes(session: harness.session)])
        try app.start()
        defer { app.shutdown() }

        let body = #"{"lines":[{"stream":"stdout","time":1700000000123.5,"text":"hello"},{"stream":"stderr","text":"oh no"}],"dropped":2}"#
        #expect(try TestHTTPClient.post(port: app.port, "/api/devices/\(device)/logs", json: body).status == 204)
        let answer = try TestHTTPClient.get(port: app.port, "/api/devices/\(device)/logs?since=1")
        #expect(answer.status == 200)
        let json = try answer.json()
        #expect(json["lastSeq"]?.intValue == 2 && json["dropped"]?.intValue == 2 && json["missed"]?.intValue == 0)
        let line = json["lines"]?[0]
        #expect(line?["seq"]?.intValue == 2 && line?["stream"]?.stringValue == "stderr" && line?["text"]?.stringValue == "oh no")
        let first = try TestHTTPClient.get(port: app.port, "/api/devices/\(device)/logs").json()["lines"]?[0]
        #expect(first?["time"]?.stringValue?.hasPrefix("2023-11-14T22:13:20.123") == true, "\(String(describing: first))")

        let unknown = try TestHTTPClient.get(port: app.port, "/api/devices/d-nope/logs")
        #expect(unknown.status == 404 && unknown.errorCode == "device_not_found")
        let unknownPost = try TestHTTPClient.post(port: app.port, "/api/devices/d-nope/logs", json: body)
        #expect(unknownPost.status == 404 && unknownPost.errorCode == "device_not_found")
        for bad in [
            "not json", #"{"lines":"no"}"#, #"{"lines":[{"stream":"stdlog","text":"x"}]}"#, #"{"lines":[{"stream":"stdout"}]}"#,
            #"{"lines":[],"dropped":-1}"#, #"{"lines":[{"stream":"stdout","text":"x","time":"yesterday"}]}"#,
        ] {
            let response = try TestHTTPClient.post(port: app.port, "/api/devices/\(device)/logs", json: bad)
            #expect(response.status == 400 && response.errorCode != nil, "\(bad): \(response.status)")
        }
        #expect(try TestHTTPClient.get(port: app.port, "/api/devices/\(device)/logs?since=-1").status == 400)
        #expect(try harness.session.deviceLogs(device, since: 0).lines.count == 2, "bad bodies kept nothing")
    }
}
