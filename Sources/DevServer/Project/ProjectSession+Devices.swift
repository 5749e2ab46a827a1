import Foundation
import HTTP
import Hotpatch

extension ProjectSession {
    /// A device not heard from for this long is `lost` (a long poll comes at least every `wait`).
    static let deviceLostAfter: TimeInterval = 90

    func deviceRecord(_ id: String) -> DeviceRecord? {
        journal.withLock { $0.devices.first { $0.id == id && !$0.removed } }
    }

    func updateDevice(_ id: String, _ change: (inout DeviceRecord) -> Void) {
        journal.withLock { journal in
            if let index = journal.devices.firstIndex(where: { $0.id == id }) { change(&journal.devices[index]) }
        }
    }

    func liveDevices(of build: BuildID) -> [DeviceRecord] {
        journal.withLock { $0.devices.filter { $0.buildId == build && !$0.removed && $0.state != .lost } }
    }

    var visibleDevices: [DeviceRecord] {
        journal.withLock { $0.devices.filter { !$0.removed } }
    }

    /// Registers a running app. A device of an older build is accepted as long as that build is
    /// kept: it gets every patch of its own build, in order.
    func registerDevice(_ body: JSONFields) throws -> DeviceRecord {
        let name = try body.nonEmptyString("name")
        let pid = try body.int("pid")
        let triple = try body.nonEmptyString("triple")
        let reference = try body.hexAddress("aslrReference")
        let requested = try body.optionalString("buildId")
        let build: BuildRecord
        if let requested {
            guard let record = buildRecord(requested) else {
                throw HTTPError.notFound("build", id: requested, hint: "set WHISKER_BUILD_ID to the id of the build the app was started from")
            }
            build = record
        } else {
            guard let record = currentBuild else {
                throw HTTPError.conflict(code: "no_build", "there is no successful fat build yet")
            }
            build = record
        }
        guard build.state == .succeeded, let fat = build.build else {
            throw HTTPError.conflict(code: "build_not_ready", "build \(build.id) is \(build.state.rawValue); devices can only join a succeeded build")
        }
        let anchor = anchorAddress(of: fat)
        let now = Date()
        let device = DeviceRecord(
            id: "d" + String(UInt64.random(in: 0..<(1 << 40)), radix: 16), name: name, pid: pid, triple: triple,
            buildId: build.id, aslrReference: reference, slide: anchor.map { reference &- $0 }, state: .connected,
            registeredAt: now, lastSeenAt: now)
        journal.withLock { $0.devices.append(device) }
        publishDevice("device.registered", device.id)
        saveJournal()
        logger.info("device \(device.id) registered: \(name) pid \(pid) build \(build.id.rawValue)")
        linkMissingPatches(for: device.id)
        return device
    }

    /// Links, off the HTTP thread, every succeeded patch of the device's build that has no
    /// library for its slide yet; then wakes its long poll.
    func linkMissingPatches(for deviceId: String) {
        linkQueue.async { [self] in
            guard let device = deviceRecord(deviceId) else { return }
            let patches = journal.withLock { $0.patches.filter { $0.buildId == device.buildId && $0.state == .succeeded } }
            for patch in patches where patch.link(for: device.aslrReference) == nil {
                guard let stored = patch.compilation else { continue }
                do {
                    try link(try patcher.restore(stored), patchId: patch.id, aslrReference: device.aslrReference)
                } catch {
                    logger.error("cannot link patch \(patch.id) for device \(deviceId): \(error)")
                    updatePatch(patch.id) { $0.failedBy[deviceId] = "link failed: \(JobFailure(error).message)" }
                }
            }
            devicePolls.notify(deviceId)
        }
    }

    /// The patches a device has not applied yet (after `after`), each with its own library and
    /// jump table; nil while none is ready.
    func pendingPatches(for deviceId: String, after: Int) -> JSONValue? {
        guard let device = deviceRecord(deviceId) else { return nil }
        let patches = journal.withLock {
            $0.patches.filter { $0.buildId == device.buildId && $0.state == .succeeded && $0.id > after }
        }.sorted { $0.id < $1.id }
        var items: [JSONValue] = []
        for patch in patches {
            if patch.failedBy[deviceId] != nil { continue }
            // Not linked for this slide yet: wait for linkMissingPatches to wake us.
            guard let link = patch.link(for: device.aslrReference) else { return nil }
            items.append([
                "id": .int(Int64(patch.id)),
                "sha256": .string(link.sha256),
                "libraryUrl": .string(libraryURL(patchId: patch.id, deviceId: deviceId)),
                "jumpTable": (try? JSONValue.parse(Array(link.jumpTableJSON.utf8))) ?? .null,
            ])
        }
        guard !items.isEmpty else { return nil }
        let now = Date()
        for patch in patches where patch.failedBy[deviceId] == nil {
            updatePatch(patch.id) { record in
                if record.sentAt?[deviceId] == nil { record.sentAt = (record.sentAt ?? [:]).merging([deviceId: now]) { old, _ in old } }
            }
        }
        updateDevice(deviceId) { $0.state = .applying }
        return ["patches": .array(items)]
    }

    /// The long poll: answers at once when patches are waiting, else when one is ready or after `wait` s.
    func pollPatches(deviceId: String, after: Int, wait: Int) throws -> Response {
        guard deviceRecord(deviceId) != nil else { throw HTTPError.notFound("device", id: deviceId) }
        touch(deviceId)
        linkMissingPatches(for: deviceId)
        return devicePolls.wait(
            for: deviceId, timeout: .seconds(wait),
            onTimeout: { [self] in
                touch(deviceId)
                return .json(["patches": []])
            },
            ready: { [self] in pendingPatches(for: deviceId, after: after).map { .json($0) } })
    }

    private func touch(_ deviceId: String) {
        var revived = false
        updateDevice(deviceId) { device in
            device.lastSeenAt = Date()
            if device.state == .lost {
                device.state = .connected
                revived = true
            }
        }
        if revived { publishDevice("device.registered", deviceId) }
    }

    /// Records a device's report on one patch.
    func acknowledge(deviceId: String, _ body: JSONFields) throws {
        guard deviceRecord(deviceId) != nil else { throw HTTPError.notFound("device", id: deviceId) }
        let patchId = try body.int("patch", as: Int.self)
        let status = try body.oneOf("status", ["applied", "failed"])
        let errorText = try body.optionalString("error")
        let ackedAt = Date()
        let receivedAt = try body.optionalDouble("receivedAt").map { Date(timeIntervalSince1970: $0 / 1000) }
        let appliedAt = try body.optionalDouble("appliedAt").map { Date(timeIntervalSince1970: $0 / 1000) }
        let timings = try body.optionalObject("timings").map(Self.deviceTimings)
        guard patchRecord(patchId) != nil else { throw HTTPError.notFound("patch", id: String(patchId)) }
        updatePatch(patchId) { patch in
            let sentAt = patch.sentAt?[deviceId]
            patch.updateLatency {
                $0.record(PatchLatency.Device(
                    device: deviceId, status: status, sentAt: sentAt, receivedAt: receivedAt, appliedAt: appliedAt,
                    ackedAt: ackedAt, timings: timings))
            }
            if status == "applied" {
                if !patch.appliedBy.contains(deviceId) { patch.appliedBy.append(deviceId) }
                patch.failedBy[deviceId] = nil
            } else {
                patch.failedBy[deviceId] = errorText ?? "the device reported a failure"
            }
        }
        let newest = journal.withLock { journal in
            journal.devices.first { $0.id == deviceId }.flatMap { device in
                journal.patches.filter { $0.buildId == device.buildId && $0.state == .succeeded }.map(\.id).max()
            }
        }
        updateDevice(deviceId) { device in
            device.lastSeenAt = Date()
            if status == "applied" {
                device.lastAppliedPatch = max(device.lastAppliedPatch ?? 0, patchId)
                device.lastError = nil
                device.state = (newest ?? patchId) <= patchId ? .up_to_date : .applying
            } else {
                device.lastError = errorText ?? "the device reported a failure"
                device.state = .failed
            }
        }
        publishDevice(status == "applied" ? "device.applied" : "device.failed", deviceId, patch: patchId, error: errorText)
        if let record = patchRecord(patchId), let latency = record.latency {
            _ = events.publish("patch.latency", [
                "id": .int(Int64(patchId)), "state": .string(record.state.rawValue), "device": .string(deviceId),
                "latency": Self.latencyJSON(latency),
            ])
        }
        saveJournal()
        logger.info("device \(deviceId) \(status) patch \(patchId)\(errorText.map { ": \($0)" } ?? "")")
        if let latency = patchRecord(patchId)?.latency, let device = latency.devices.first(where: { $0.device == deviceId }) {
            let segments = latency.serverSegments + latency.deviceSegments(device)
            let total = latency.saveToAppliedMs(device).map { "\(latency.savedAt == nil ? "queued" : "save") → \(status) \(Int($0.rounded())) ms " } ?? ""
            logger.info("patch \(patchId) latency on \(deviceId): \(total)(\(PatchLatency.summary(segments)))")
        }
    }

    /// The ack's `timings` object (`DeviceTimings` in the spec).
    static func deviceTimings(_ fields: JSONFields) throws -> PatchLatency.DeviceTimings {
        let parse = try fields.optionalDouble("parseMs") ?? 0
        let fetch = try fields.optionalDouble("fetchMs") ?? 0
        let load = try fields.optionalDouble("loadMs") ?? 0
        let apply = try fields.optionalDouble("applyMs") ?? 0
        for (name, value) in [("parseMs", parse), ("fetchMs", fetch), ("loadMs", load), ("applyMs", apply)] where value < 0 || !value.isFinite {
            throw HTTPError.badRequest("\(fields.fieldPath(name)) must be a non-negative number of milliseconds")
        }
        return PatchLatency.DeviceTimings(
            parseMs: parse, fetchMs: fetch, loadMs: load, applyMs: apply,
            totalMs: try fields.optionalDouble("totalMs") ?? (parse + fetch + load + apply),
            fetch: try fields.optionalString("fetch"))
    }

    /// A device's forwarded output lines, shown as `device.log` events.
    func recordLogs(deviceId: String, _ body: JSONFields) throws {
        guard deviceRecord(deviceId) != nil else { throw HTTPError.notFound("device", id: deviceId) }
        let lines = try body.array("lines")
        guard lines.count <= 1000 else { throw HTTPError.badRequest("at most 1000 lines per request") }
        var checked: [JSONValue] = []
        for (index, line) in lines.enumerated() {
            let fields = try JSONFields(line, path: "lines[\(index)]")
            _ = try fields.oneOf("stream", ["stdout", "stderr"])
            _ = try fields.string("text")
            checked.append(line)
        }
        touch(deviceId)
        _ = events.publish("device.log", ["device": .string(deviceId), "lines": .array(checked)])
    }

    func removeDevice(_ id: String) throws {
        guard deviceRecord(id) != nil else { throw HTTPError.notFound("device", id: id) }
        updateDevice(id) { $0.removed = true }
        publishDevice("device.removed", id)
        saveJournal()
        devicePolls.notify(id)
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
        for id in lost { publishDevice("device.lost", id) }
        if !lost.isEmpty { saveJournal() }
    }

    func publishDevice(_ name: String, _ id: String, patch: Int? = nil, error: String? = nil) {
        guard let device = journal.withLock({ $0.devices.first { $0.id == id } }) else { return }
        var data: JSONObject = ["device": .string(id)]
        if let patch { data["patch"] = .int(Int64(patch)) }
        if let error { data["error"] = .string(error) }
        data["deviceInfo"] = deviceJSON(device)
        _ = events.publish(name, .object(data))
    }

    /// `?device=ID` on the event stream: that device's own events and jump tables.
    func eventFilter(for request: Request) throws -> EventFilter? {
        guard let deviceId = request.query["device"] else { return nil }
        guard deviceRecord(deviceId) != nil else { throw HTTPError.notFound("device", id: deviceId) }
        return { event in
            if event.name.hasPrefix("server.") || event.name.hasPrefix("replay.") { return event }
            guard event.name == "jump-table" || event.name.hasPrefix("device.") else { return nil }
            return event.data.objectValue?["device"]?.stringValue == deviceId ? event : nil
        }
    }
}
