@testable import DevServer
import Foundation
@testable import Hotpatch
import Testing

/// Devices on a scripted pipeline and a manual clock: a late device catching up, acks, and a
/// silent device going lost.
@Suite struct SessionDeviceTests {
    @Test(arguments: [PatchLinkMode.perDevice, .shared])
    func aLateDeviceGetsEverySucceededPatchOfItsBuildInOrder(linkMode: PatchLinkMode) throws {
        let harness = try SessionHarness(linkMode: linkMode)
        let session = harness.session
        let old = try harness.build()
        harness.pipeline.fail(.compile(patch: 2))
        for _ in 1...3 {
            try session.enqueuePatch(trigger: .watch)
            harness.settle()
        }
        // A newer build and its patch: not for a device of the old build.
        harness.clock.advance(by: .seconds(1))
        try harness.build()
        try session.enqueuePatch(trigger: .watch)
        harness.settle()
        #expect(session.patches(after: 0).map(\.state) == [.succeeded, .failed, .succeeded, .succeeded])
        #expect(harness.pipeline.calls(.link).map(\.description) == ["link 1 @0x1000", "link 3 @0x1000", "link 4 @0x1000"])
        harness.clearEvents()

        let reference: UInt64 = 0x5555_0000_1000
        let device = try session.registerDevice(DeviceRegistration(
            name: "late", pid: 9, triple: "x86_64-unknown-linux-gnu", aslrReference: reference, buildId: old.rawValue))
        #expect(device.slide == reference - PipelineFixtures.anchor)
        harness.settle()

        let links = harness.pipeline.calls.filter { $0.kind == .link || $0.kind == .restore }.map(\.description)
        if linkMode == .perDevice {
            // Linked for its slide, oldest first, each reported to it; then its poll may answer.
            #expect(links.suffix(4) == ["restore 1", "link 1 @0x555500001000", "restore 3", "link 3 @0x555500001000"])
            #expect(harness.events == [
                "device \(device.id) registered", "jump-table 1 \(device.id)", "jump-table 3 \(device.id)", "linked for \(device.id)",
            ])
            #expect(session.patchRecord(1)?.links.map(\.aslrReference) == [PipelineFixtures.anchor, reference])
        } else {
            // One library serves every process: nothing to link, the table is derived.
            #expect(links.count == 3)
            #expect(harness.events == ["device \(device.id) registered", "linked for \(device.id)"])
        }

        harness.clock.advance(by: .milliseconds(5))
        let pending = try #require(session.takePendingPatches(for: device.id, after: 0))
        #expect(pending.map(\.id) == [1, 3])
        #expect(pending.allSatisfy { $0.jumpTable.aslrReference == reference })
        #expect(pending.map(\.jumpTable.patchId) == [1, 3])
        #expect(pending.map(\.sha256) == [1, 3].compactMap { session.patchRecord($0)?.link(for: reference)?.sha256 })
        #expect(session.patchRecord(1)?.sentAt?[device.id] == ManualClock.at(.seconds(1) + .milliseconds(5)))
        #expect(session.deviceRecord(device.id)?.state == .applying)
        #expect(session.takePendingPatches(for: device.id, after: 1)?.map(\.id) == [3])
        #expect(session.takePendingPatches(for: device.id, after: 3) == nil)
    }

    /// Found by schemathesis: an ack whose timings were near `Double.greatestFiniteMagnitude`
    /// trapped the server while it logged the latency line (`Int(1e308)`).
    @Test func anAckWithHugeTimingsIsRecordedNotACrash() throws {
        let harness = try SessionHarness()
        let session = harness.session
        try harness.build()
        let device = try harness.register("app", at: 0x5555_0000_1000).id
        harness.settle()
        try session.enqueuePatch(trigger: .watch, savedAt: ManualClock.start)
        harness.settle()
        #expect(session.takePendingPatches(for: device, after: 0)?.map(\.id) == [1])
        try session.acknowledge(deviceId: device, DeviceAck(
            patch: 1, status: .failed, error: "x",
            timings: PatchLatency.DeviceTimings(parseMs: 1.7976931348623157e308, fetchMs: 3e293, loadMs: 2.5e307, applyMs: 0, totalMs: 1e308, fetch: "download")))
        #expect(session.deviceRecord(device)?.state == .failed)
        #expect(session.patchRecord(1)?.latency?.devices.first?.timings?.parseMs == 1.7976931348623157e308)
    }

    @Test func acksOfAppliedAndFailedPatchesUpdateTheDeviceAndThePatch() throws {
        let harness = try SessionHarness()
        let session = harness.session
        try harness.build()
        let reference: UInt64 = 0x5555_0000_1000
        let device = try harness.register("app", at: reference).id
        harness.settle()
        try session.enqueuePatch(trigger: .watch, savedAt: ManualClock.start)
        harness.settle()
        #expect(session.patchRecord(1)?.links.map(\.aslrReference) == [reference], "linked for the live device")
        #expect(harness.events.contains("jump-table 1 \(device)"))

        harness.clock.advance(by: .milliseconds(100))
        let sent = ManualClock.at(.milliseconds(100))
        #expect(session.takePendingPatches(for: device, after: 0)?.map(\.id) == [1])
        harness.clock.advance(by: .milliseconds(40))
        harness.clearEvents()
        try session.acknowledge(deviceId: device, DeviceAck(
            patch: 1, status: .applied, receivedAt: ManualClock.at(.milliseconds(110)),
            appliedAt: ManualClock.at(.milliseconds(130)),
            timings: PatchLatency.DeviceTimings(parseMs: 1, fetchMs: 2, loadMs: 3, applyMs: 4, totalMs: 10, fetch: "local")))

        let applied = try #require(session.deviceRecord(device))
        #expect(applied.state == .up_to_date && applied.lastAppliedPatch == 1 && applied.lastError == nil)
        #expect(applied.lastSeenAt == ManualClock.at(.milliseconds(140)))
        let patch = try #require(session.patchRecord(1))
        #expect(patch.appliedBy == [device] && patch.failedBy.isEmpty)
        let latency = try #require(patch.latency?.devices.first)
        #expect(latency.device == device && latency.status == "applied")
        #expect(latency.sentAt == sent && latency.ackedAt == ManualClock.at(.milliseconds(140)))
        #expect(patch.latency.flatMap { $0.saveToAppliedMs(latency) } == 130)
        #expect(patch.links.first?.plan.latency == patch.latency, "the served plan carries the ack")
        #expect(harness.events == ["device \(device) applied 1", "patch 1 latency \(device)"])

        // Patch 2 applied while 3 exists: still applying. Patch 3 fails on the device.
        for _ in 2...3 {
            try session.enqueuePatch(trigger: .watch)
            harness.settle()
        }
        try session.acknowledge(deviceId: device, DeviceAck(patch: 2, status: .applied))
        #expect(session.deviceRecord(device)?.state == .applying)
        try session.acknowledge(deviceId: device, DeviceAck(patch: 3, status: .failed, error: "boom"))
        let failed = try #require(session.deviceRecord(device))
        #expect(failed.state == .failed && failed.lastError == "boom" && failed.lastAppliedPatch == 2)
        #expect(session.patchRecord(3)?.failedBy == [device: "boom"] && session.patchRecord(3)?.appliedBy == [])
        #expect(harness.events.suffix(2) == ["device \(device) failed 3", "patch 3 latency \(device)"])
        #expect(session.takePendingPatches(for: device, after: 2) == nil, "a patch the device failed is not sent again")

        // The app recovers and applies it after all.
        try session.acknowledge(deviceId: device, DeviceAck(patch: 3, status: .applied))
        #expect(session.patchRecord(3)?.failedBy.isEmpty == true && session.patchRecord(3)?.appliedBy == [device])
        #expect(session.deviceRecord(device)?.state == .up_to_date)

        let unknownPatch = try #require(throws: SessionError.self) {
            try session.acknowledge(deviceId: device, DeviceAck(patch: 99, status: .applied))
        }
        #expect(unknownPatch.identifier == "patch_not_found")
        let unknownDevice = try #require(throws: SessionError.self) {
            try session.acknowledge(deviceId: "dnope", DeviceAck(patch: 1, status: .applied))
        }
        #expect(unknownDevice.identifier == "device_not_found")
    }

    @Test func aSilentDeviceIsLostAfterNinetySecondsAndBackWhenHeardFrom() throws {
        let harness = try SessionHarness()
        let session = harness.session
        try harness.build()
        let device = try harness.register("app", at: 0x5555_0000_1000).id
        harness.settle()
        harness.clearEvents()

        harness.clock.advance(by: .seconds(90))
        session.reapLostDevices()
        #expect(session.deviceRecord(device)?.state == .connected, "90 s is not more than 90 s")
        harness.clock.advance(by: .milliseconds(1))
        session.reapLostDevices()
        #expect(session.deviceRecord(device)?.state == .lost)
        #expect(session.liveDevices(of: try #require(session.currentBuild?.id)).isEmpty)

        try session.beginPatchPoll(deviceId: device)
        harness.settle()
        #expect(session.deviceRecord(device)?.state == .connected)
        #expect(session.deviceRecord(device)?.lastSeenAt == ManualClock.at(.seconds(90) + .milliseconds(1)))
        #expect(harness.events == ["device \(device) lost", "device \(device) registered", "linked for \(device)"])

        try session.removeDevice(device)
        #expect(session.deviceRecord(device) == nil && session.visibleDevices.isEmpty)
        #expect(harness.events.last == "device \(device) removed")
        #expect(throws: SessionError.self) { try session.removeDevice(device) }
    }
    /// A device told to restart whose new process registers with `restartedFrom` is done (not
    /// listed, never lost); one that does not come back within a minute is reported lost.
    @Test func aRestartedDeviceIsReplacedByItsNewProcessAndOneThatNeverComesBackIsLost() throws {
        let harness = try SessionHarness()
        let session = harness.session
        let build = try harness.build()
        let returning = try harness.register("returning", at: 0x5555_0000_1000).id
        let silent = try harness.register("silent", at: 0x5555_0000_2000).id
        harness.settle()
        session.change { state in
            for id in [returning, silent] { state.update(DeviceRecord.self, id) { $0.state = .restarting } }
        }
        harness.clearEvents()

        harness.clock.advance(by: .seconds(5))
        let successor = try session.registerDevice(DeviceRegistration(
            name: "returning", pid: 10, triple: "x86_64-unknown-linux-gnu", aslrReference: 0x5555_0000_3000,
            buildId: build.rawValue, restartedFrom: returning))
        harness.settle()
        #expect(successor.restartedFrom == returning)
        #expect(session.deviceRecord(returning) == nil, "the old process is replaced")
        #expect(harness.events.contains("device \(returning) restarted as \(successor.id)"), "\(harness.events)")

        harness.clock.advance(by: .seconds(55))
        session.reapLostDevices()
        #expect(session.deviceRecord(silent)?.state == .restarting, "60 s is not more than 60 s")
        harness.clock.advance(by: .milliseconds(1))
        session.reapLostDevices()
        #expect(session.deviceRecord(silent)?.state == .lost)
        #expect(session.deviceRecord(silent)?.lastError?.contains("did not come back within 60 s") == true)
        #expect(session.deviceRecord(successor.id)?.state == .connected, "the new process is fine")
        #expect(harness.events.suffix(2) == ["device \(silent) restart lost", "device \(silent) lost"], "\(harness.events)")
    }

    /// What a device saves before its restart is what its new process reads back, once the old
    /// device is replaced too; unknown devices and devices that saved nothing say which it is,
    /// and only the latest ``SavedStates/capacity`` states are kept.
    @Test func aDevicesSavedStateOutlivesItsReplacementAndUnknownOnesAreNamed() throws {
        let harness = try SessionHarness()
        let session = harness.session
        let build = try harness.build()
        let old = try harness.register("app", at: 0x5555_0000_1000).id
        let bytes: [UInt8] = [0, 1, 2, 0xFF]
        try session.saveState(bytes, forDevice: old)
        try session.saveState(bytes + [7], forDevice: old)
        session.change { $0.update(DeviceRecord.self, old) { $0.state = .restarting } }
        _ = try session.registerDevice(DeviceRegistration(
            name: "app", pid: 10, triple: "x86_64-unknown-linux-gnu", aslrReference: 0x5555_0000_3000,
            buildId: build.rawValue, restartedFrom: old))
        #expect(session.deviceRecord(old) == nil)
        #expect(try session.savedState(ofDevice: old) == bytes + [7], "the last save counts, after the replacement too")

        let identifiers = [
            #expect(throws: SessionError.self) { try session.saveState(bytes, forDevice: "d-nope") },
            #expect(throws: SessionError.self) { try session.savedState(ofDevice: "d-nope") },
            #expect(throws: SessionError.self, "a replaced device saves no more") { try session.saveState(bytes, forDevice: old) },
        ].map { $0?.identifier }
        #expect(identifiers == ["device_not_found", "device_not_found", "device_not_found"])
        let quiet = try harness.register("quiet", at: 0x5555_0000_2000).id
        let nothing = #expect(throws: SessionError.self) { try session.savedState(ofDevice: quiet) }
        #expect(nothing?.identifier == "state_not_found" && nothing?.code == .notFound, "\(String(describing: nothing))")

        var states = SavedStates()
        for index in 0...SavedStates.capacity { states.save([UInt8(index)], for: "d\(index)") }
        #expect(states["d0"] == nil && states["d1"] == [1] && states["d\(SavedStates.capacity)"] == [UInt8(SavedStates.capacity)])
    }
}
