import Foundation
@testable import Hotpatch
import Testing

/// `PatchLatency`: segments in path order, and a device clock that is off cannot invert them.
struct PatchLatencyTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func at(_ ms: Double) -> Date { t0.addingTimeInterval(ms / 1000) }

    @Test func segmentsFollowThePathFromSaveToAck() {
        var latency = PatchLatency(savedAt: at(0), queuedAt: at(6))
        latency.startedAt = at(6.5)
        latency.linkedAt = at(200)
        latency.finishedAt = at(203)
        let timings = PatchLatency.DeviceTimings(parseMs: 0.1, fetchMs: 2, loadMs: 0.2, applyMs: 0.1, totalMs: 2.4, fetch: "local")
        latency.record(PatchLatency.Device(
            device: "d1", status: "applied", sentAt: at(204), receivedAt: at(204.5), appliedAt: at(207),
            ackedAt: at(207.5), timings: timings))
        #expect(latency.serverSegments.map(\.name) == ["watch", "queue", "job", "commit"])
        #expect(latency.serverSegments.map(\.durationMs) == [6, 0.5, 193.5, 3])
        let device = latency.devices[0]
        #expect(latency.deviceSegments(device).map(\.name) == ["wakeUp", "transit", "parse", "fetch", "load", "apply", "ack"])
        #expect(latency.deviceSegments(device).first?.durationMs == 1)
        #expect(latency.saveToAppliedMs(device) == 207)
        #expect(latency.saveToFinishedMs == 203)
        #expect(PatchLatency.summary(latency.serverSegments) == "watch 6, queue 1, job 194, commit 3")
        // A device's own figure may be any JSON number: printed, never a trap.
        #expect(PatchLatency.summary([.init(name: "parse", durationMs: 1e308), .init(name: "load", durationMs: -.infinity)])
            == "parse 1e+308, load -inf")

        // A second ack of the same device replaces the first.
        latency.record(PatchLatency.Device(device: "d1", status: "failed", sentAt: at(204), receivedAt: nil, appliedAt: nil, ackedAt: at(300), timings: nil))
        #expect(latency.devices.count == 1 && latency.devices[0].status == "failed")
    }

    @Test func aSkewedDeviceClockIsClampedIntoWhatTheServerSaw() {
        // The device's clock runs 10 s behind, then 10 s ahead: its instants land inside [sent, acked].
        let behind = PatchLatency.Device(
            device: "d1", status: "applied", sentAt: at(100), receivedAt: at(-9_900), appliedAt: at(-9_895), ackedAt: at(110),
            timings: nil)
        #expect(behind.receivedAt == at(100) && behind.appliedAt == at(100))
        let ahead = PatchLatency.Device(
            device: "d2", status: "applied", sentAt: at(100), receivedAt: at(10_100), appliedAt: at(10_105), ackedAt: at(110),
            timings: nil)
        #expect(ahead.receivedAt == at(110) && ahead.appliedAt == at(110))
        // A latency without a save (asked for through the API) starts at the queue.
        var latency = PatchLatency(savedAt: nil, queuedAt: at(0))
        latency.record(ahead)
        #expect(latency.saveToAppliedMs(ahead) == 110)
        #expect(latency.serverSegments.isEmpty)
    }
}
