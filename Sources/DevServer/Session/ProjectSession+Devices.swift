import Foundation
import Hotpatch

/// Running apps: registration, the patches they still need, their acks, logs and liveness.
extension ProjectSession {
    /// A device not heard from for this long is `lost` (a long poll comes at least every `wait`).
    static let deviceLostAfter: TimeInterval = 90
    /// How long a device told to restart has to register again from its new process.
    static let restartLostAfter: TimeInterval = 60

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
        let now = clock.now()
        let reference = registration.aslrReference
        let device = DeviceRecord(
            id: "d" + String(UInt64.random(in: 0..<(1 << 40)), radix: 16), name: registration.name, pid: registration.pid,
            triple: registration.triple, buildId: build.id, aslrReference: reference, slide: anchor.map { reference &- $0 },
            state: .connected, registeredAt: now, lastSeenAt: now, restartedFrom: registration.restartedFrom)
        let replaced = change { state -> String? in
            state.journal.devices.append(device)
            state.emitDevice(.registered, device.id)
            // The process it was is done: it came back on the new build (not `lost` later).
            var replaced: String?
            if let old = registration.restartedFrom, state.visibleDevice(old)?.state == .restarting {
                state.update(DeviceRecord.self, old) {
                    $0.restartedAs = device.id
                    $0.removed = true
                }
                state.emitDevice(.restarted(as: device.id), old)
                replaced = old
            }
            state.journalDidChange()
            return replaced
        }
        if let replaced {
            logger.info("device \(replaced) restarted into build \(build.id.rawValue) as device \(device.id)")
        }
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
        change { state -> [PendingPatch]? in
            guard let device = state.visibleDevice(deviceId) else { return nil }
            let patches = state.succeededPatches(of: device.buildId).filter { $0.id > after && $0.failedBy[deviceId] == nil }
            var pending: [PendingPatch] = []
            for patch in patches {
                // Not linked for this slide yet: wait for linkMissingPatches to report it.
                guard let link = patch.link(for: device.aslrReference) else { return nil }
                pending.append(PendingPatch(id: patch.id, sha256: link.sha256, jumpTable: link.table))
            }
            guard !pending.isEmpty else { return nil }
            let now = clock.now()
            for patch in patches {
                state.update(PatchRecord.self, patch.key) { record in
                    if record.sentAt?[deviceId] == nil { record.sentAt = (record.sentAt ?? [:]).merging([deviceId: now]) { old, _ in old } }
                }
            }
            state.update(DeviceRecord.self, deviceId) { $0.state = .applying }
            return pending
        }
    }

    /// The device was heard from (a poll, its end, its logs); a `lost` one is connected again.
    func deviceSeen(_ deviceId: String) {
        change { state in
            let now = clock.now()
            var revived = false
            state.update(DeviceRecord.self, deviceId) { device in
                device.lastSeenAt = now
                if device.state == .lost {
                    device.state = .connected
                    revived = true
                }
            }
            if revived { state.emitDevice(.registered, deviceId) }
        }
    }

    /// Records a device's report on one patch.
    func acknowledge(deviceId: String, _ ack: DeviceAck) throws(SessionError) {
        let patchId = ack.patch
        let applied = ack.status == .applied
        let latency = try change { (state: inout SessionState) throws(SessionError) -> PatchLatency? in
            guard let device = state.visibleDevice(deviceId) else { throw .notFound("device", id: deviceId) }
            guard state.journal.record(PatchRecord.self, String(patchId)) != nil else { throw .notFound("patch", id: String(patchId)) }
            let ackedAt = clock.now()
            let patch = state.update(PatchRecord.self, String(patchId)) { patch in
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
            let newest = state.succeededPatches(of: device.buildId).last?.id
            state.update(DeviceRecord.self, deviceId) { device in
                device.lastSeenAt = ackedAt
                if applied {
                    device.lastAppliedPatch = max(device.lastAppliedPatch ?? 0, patchId)
                    device.lastError = nil
                    device.state = (newest ?? patchId) <= patchId ? .up_to_date : .applying
                } else {
                    device.lastError = ack.error ?? "the device reported a failure"
                    device.state = .failed
                }
            }
            state.emitDevice(.acknowledged(patch: patchId, applied: applied, error: ack.error), deviceId)
            if let patch, let latency = patch.latency {
                state.emit(.patchLatency(id: patchId, state: patch.state, device: deviceId, latency: latency))
            }
            state.journalDidChange()
            return patch?.latency
        }
        logger.info("device \(deviceId) \(ack.status.rawValue) patch \(patchId)\(ack.error.map { ": \($0)" } ?? "")")
        if let latency, let device = latency.devices.first(where: { $0.device == deviceId }) {
            let segments = latency.serverSegments + latency.deviceSegments(device)
            let status = ack.status.rawValue
            let total = latency.saveToAppliedMs(device).map { "\(latency.savedAt == nil ? "queued" : "save") → \(status) \(Int($0.rounded())) ms " } ?? ""
            logger.info("patch \(patchId) latency on \(deviceId): \(total)(\(PatchLatency.summary(segments)))")
        }
    }

    func removeDevice(_ id: String) throws(SessionError) {
        try change { (state: inout SessionState) throws(SessionError) in
            guard state.visibleDevice(id) != nil else { throw .notFound("device", id: id) }
            state.update(DeviceRecord.self, id) { $0.removed = true }
            state.deviceLogs[id] = nil
            // A forgotten device's saved state goes too: `GET …/state` answers 404 like the rest.
            state.savedStates.forget(id)
            state.emitDevice(.removed, id)
            state.journalDidChange()
        }
    }

    /// Marks devices not heard from for ``deviceLostAfter`` as lost; call periodically. `now`
    /// defaults to the session's clock.
    public func reapLostDevices(now: Date? = nil) {
        change { state in
            let now = now ?? clock.now()
            var lost: [(id: String, restartError: String?)] = []
            for index in state.journal.devices.indices {
                let device = state.journal.devices[index]
                let restarting = device.state == .restarting
                guard !device.removed, device.state != .lost,
                      now.timeIntervalSince(device.lastSeenAt) > (restarting ? Self.restartLostAfter : Self.deviceLostAfter)
                else { continue }
                let restartError = restarting ? "told to restart, it did not come back within \(Int(Self.restartLostAfter)) s" : nil
                state.journal.devices[index].state = .lost
                if let restartError { state.journal.devices[index].lastError = restartError }
                lost.append((device.id, restartError))
            }
            for (id, restartError) in lost {
                if let restartError {
                    state.emitDevice(.restartLost, id)
                    logger.warning("device \(id) lost: \(restartError)")
                }
                state.emitDevice(.lost, id)
            }
            if !lost.isEmpty { state.journalDidChange() }
        }
    }
}
