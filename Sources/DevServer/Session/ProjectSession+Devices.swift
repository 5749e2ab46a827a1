import Foundation
import Hotpatch

/// Running apps: registration, the patches they still need, their acks, logs and liveness.
extension ProjectSession {
    /// A device not heard from for this long is `lost` (a long poll comes at least every `wait`).
    static let deviceLostAfter: TimeInterval = 90

    /// Registers a running app. A device of an older build is accepted as long as that build is
    /// kept: it gets every patch of its own build, in order.
    func registerDevice(_ registration: DeviceRegistration) throws(SessionError) -> DeviceRecord {
        let build: BuildRecord
        if let requested = registration.buildId {
            build = try self.build(requested, hint: "set WHISKER_BUILD_ID to the id of the build the app was started from")
        } else {
            guard let record = currentBuild else { throw .conflict("no_build", "there is no successful fat build yet") }
            build = record
        }
        guard build.state == .succeeded, let fat = build.build else {
            throw .conflict("build_not_ready", "build \(build.id) is \(build.state.rawValue); devices can only join a succeeded build")
        }
        let anchor = anchorAddress(of: fat)
        let now = Date()
        let reference = registration.aslrReference
        let device = DeviceRecord(
            id: "d" + String(UInt64.random(in: 0..<(1 << 40)), radix: 16), name: registration.name, pid: registration.pid,
            triple: registration.triple, buildId: build.id, aslrReference: reference, slide: anchor.map { reference &- $0 },
            state: .connected, registeredAt: now, lastSeenAt: now)
        journal.withLock { $0.devices.append(device) }
        emitDevice(.registered, device.id)
        saveJournal()
        logger.info("device \(device.id) registered: \(registration.name) pid \(registration.pid) build \(build.id.rawValue)")
        linkMissingPatches(for: device.id)
        return device
    }

    /// A device's long poll begins: it is alive, and every patch it may need gets linked for it.
    func beginPatchPoll(deviceId: String) throws(SessionError) {
        _ = try device(deviceId)
        deviceSeen(deviceId)
        linkMissingPatches(for: deviceId)
    }

    /// The patches a device has not applied yet (after `after`), each with its own library and
    /// jump table, recorded as sent to it; `nil` while none is ready.
    func takePendingPatches(for deviceId: String, after: Int) -> [PendingPatch]? {
        guard let device = deviceRecord(deviceId) else { return nil }
        let patches = journal.withLock {
            $0.patches.filter { $0.buildId == device.buildId && $0.state == .succeeded && $0.id > after }
        }.sorted { $0.id < $1.id }
        var pending: [PendingPatch] = []
        for patch in patches {
            if patch.failedBy[deviceId] != nil { continue }
            // Not linked for this slide yet: wait for linkMissingPatches to report it.
            guard let link = patch.link(for: device.aslrReference) else { return nil }
            pending.append(PendingPatch(id: patch.id, sha256: link.sha256, jumpTableJSON: link.jumpTableJSON))
        }
        guard !pending.isEmpty else { return nil }
        let now = Date()
        for patch in patches where patch.failedBy[deviceId] == nil {
            updatePatch(patch.id) { record in
                if record.sentAt?[deviceId] == nil { record.sentAt = (record.sentAt ?? [:]).merging([deviceId: now]) { old, _ in old } }
            }
        }
        updateDevice(deviceId) { $0.state = .applying }
        return pending
    }

    /// The device was heard from (a poll, its end, its logs); a `lost` one is connected again.
    func deviceSeen(_ deviceId: String) {
        var revived = false
        updateDevice(deviceId) { device in
            device.lastSeenAt = Date()
            if device.state == .lost {
                device.state = .connected
                revived = true
            }
        }
        if revived { emitDevice(.registered, deviceId) }
    }

    /// Records a device's report on one patch.
    func acknowledge(deviceId: String, _ ack: DeviceAck) throws(SessionError) {
        _ = try device(deviceId)
        let ackedAt = Date()
        let patchId = ack.patch
        let applied = ack.status == .applied
        _ = try patch(patchId)
        updatePatch(patchId) { patch in
            let sentAt = patch.sentAt?[deviceId]
            patch.updateLatency {
                $0.record(PatchLatency.Device(
                    device: deviceId, status: ack.status.rawValue, sentAt: sentAt, receivedAt: ack.receivedAt,
                    appliedAt: ack.appliedAt, ackedAt: ackedAt, timings: ack.timings))
            }
            if applied {
                if !patch.appliedBy.contains(deviceId) { patch.appliedBy.append(deviceId) }
                patch.failedBy[deviceId] = nil
            } else {
                patch.failedBy[deviceId] = ack.error ?? "the device reported a failure"
            }
        }
        let newest = journal.withLock { journal in
            journal.devices.first { $0.id == deviceId }.flatMap { device in
                journal.patches.filter { $0.buildId == device.buildId && $0.state == .succeeded }.map(\.id).max()
            }
        }
        updateDevice(deviceId) { device in
            device.lastSeenAt = Date()
            if applied {
                device.lastAppliedPatch = max(device.lastAppliedPatch ?? 0, patchId)
                device.lastError = nil
                device.state = (newest ?? patchId) <= patchId ? .up_to_date : .applying
            } else {
                device.lastError = ack.error ?? "the device reported a failure"
                device.state = .failed
            }
        }
        emitDevice(.acknowledged(patch: patchId, applied: applied, error: ack.error), deviceId)
        if let record = patchRecord(patchId), let latency = record.latency {
            emit(.patchLatency(id: patchId, state: record.state, device: deviceId, latency: latency))
        }
        saveJournal()
        logger.info("device \(deviceId) \(ack.status.rawValue) patch \(patchId)\(ack.error.map { ": \($0)" } ?? "")")
        if let latency = patchRecord(patchId)?.latency, let device = latency.devices.first(where: { $0.device == deviceId }) {
            let segments = latency.serverSegments + latency.deviceSegments(device)
            let status = ack.status.rawValue
            let total = latency.saveToAppliedMs(device).map { "\(latency.savedAt == nil ? "queued" : "save") → \(status) \(Int($0.rounded())) ms " } ?? ""
            logger.info("patch \(patchId) latency on \(deviceId): \(total)(\(PatchLatency.summary(segments)))")
        }
    }

    /// A device's forwarded output lines, reported as `deviceLog`.
    func recordLogs(deviceId: String, _ lines: [DeviceLogLine]) throws(SessionError) {
        _ = try device(deviceId)
        deviceSeen(deviceId)
        emit(.deviceLog(device: deviceId, lines: lines))
    }

    func removeDevice(_ id: String) throws(SessionError) {
        _ = try device(id)
        updateDevice(id) { $0.removed = true }
        emitDevice(.removed, id)
        saveJournal()
    }

    /// Marks devices that stopped polling as lost; call periodically.
    public func reapLostDevices(now: Date = Date()) {
        let lost = journal.withLock { journal -> [String] in
            var ids: [String] = []
            for index in journal.devices.indices
            where !journal.devices[index].removed && journal.devices[index].state != .lost
                && now.timeIntervalSince(journal.devices[index].lastSeenAt) > Self.deviceLostAfter
            {
                journal.devices[index].state = .lost
                ids.append(journal.devices[index].id)
            }
            return ids
        }
        for id in lost { emitDevice(.lost, id) }
        if !lost.isEmpty { saveJournal() }
    }

    func updateDevice(_ id: String, _ change: (inout DeviceRecord) -> Void) {
        journal.withLock { journal in
            if let index = journal.devices.firstIndex(where: { $0.id == id }) { change(&journal.devices[index]) }
        }
    }

    /// Reports `step` with the device's record as it is now (removed ones included).
    private func emitDevice(_ step: SessionEvent.DeviceStep, _ id: String) {
        guard let device = journal.withLock({ $0.devices.first { $0.id == id } }) else { return }
        emit(.device(step, device))
    }
}
