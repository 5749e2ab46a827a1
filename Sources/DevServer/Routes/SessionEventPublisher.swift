import HTTP
import Hotpatch
import Logging

/// Publishes a session's events on the SSE hub, in the shapes of `openapi/openapi.yaml`
/// (`ServerEvent`): `build.*`, `patch.*`, `device.*`, `jump-table`.
struct SessionEventPublisher: Sendable {
    let hub: EventHub
    let json: RecordJSON

    func publish(_ event: SessionEvent) {
        switch event {
        case .build(let step, let record):
            var data: JSONObject = ["id": .string(record.id.rawValue), "state": .string(record.state.rawValue)]
            if let error = record.error { data["error"] = RecordJSON.failure(error) }
            data["build"] = json.build(record)
            hub.publish("build.\(Self.name(of: step, record.state))", .object(data))
        case .buildProgress(let id, let phase, let elapsed):
            hub.publish("build.progress", [
                "id": .string(id.rawValue), "state": "running", "phase": .string(phase.name),
                "elapsedMs": .int(Int64(elapsed.milliseconds)), "phaseMs": .int(Int64(phase.durationMs)),
            ])
        case .buildWarmUp(let id, let warmUp):
            guard case .object(var data) = RecordJSON.warmUp(warmUp) else { return }
            data["id"] = .string(id.rawValue)
            hub.publish("build.warmUp", .object(data))
        case .patch(let step, let record):
            var data: JSONObject = ["id": .int(Int64(record.id)), "state": .string(record.state.rawValue)]
            if let error = record.error { data["error"] = RecordJSON.failure(error) }
            data["patch"] = json.patch(record)
            hub.publish("patch.\(Self.name(of: step, record.state))", .object(data))
        case .patchProgress(let id, let phase, let elapsed):
            hub.publish("patch.progress", [
                "id": .int(Int64(id)), "state": "running", "phase": .string(phase),
                "elapsedMs": .int(Int64(elapsed.milliseconds)),
            ])
        case .patchLatency(let id, let state, let device, let latency):
            hub.publish("patch.latency", [
                "id": .int(Int64(id)), "state": .string(state.rawValue), "device": .string(device),
                "latency": RecordJSON.latency(latency),
            ])
        case .device(let step, let device):
            publishDevice(step, device)
        case .jumpTable(let patchId, let device, let link):
            var data: JSONObject = ["patchId": .int(Int64(patchId)), "device": .string(device)]
            data["libraryUrl"] = .string(RecordJSON.libraryURL(patchId: patchId, deviceId: device))
            data["sha256"] = .string(link.sha256)
            data["jumpTable"] = RecordJSON.jumpTable(link.table)
            hub.publish("jump-table", .object(data))
        case .deviceLog(let device, let lines):
            // Replayed like every event (Last-Event-ID gets exactly what came after it); the
            // history beyond the replay log is `GET /api/devices/{id}/logs?since=`.
            hub.publish("device.log", ["device": .string(device), "lines": .array(lines.map(RecordJSON.deviceLogLine))])
        case .devicePatchesLinked, .stopping:
            break
        }
    }

    private func publishDevice(_ step: SessionEvent.DeviceStep, _ device: DeviceRecord) {
        var data: JSONObject = ["device": .string(device.id)]
        let name: String
        switch step {
        case .registered: name = "device.registered"
        case .removed: name = "device.removed"
        case .lost: name = "device.lost"
        case .restarted(let newDevice):
            name = "restart.completed"
            data["newDevice"] = .string(newDevice)
        case .restartLost: name = "restart.lost"
        case .restarting(let build, let sha256):
            name = "restart.requested"
            data["buildId"] = .string(build)
            data["binaryUrl"] = .string("/api/builds/\(build)/binary")
            data["sha256"] = .string(sha256)
        case .acknowledged(let patch, let applied, let error):
            name = applied ? "device.applied" : "device.failed"
            data["patch"] = .int(Int64(patch))
            if let error { data["error"] = .string(error) }
        }
        data["deviceInfo"] = json.device(device)
        hub.publish(name, .object(data))
    }

    /// `queued`, `started`, then the state the job ended in (`succeeded`, `failed`, `cancelled`).
    private static func name(of step: SessionEvent.JobStep, _ state: JobState) -> String {
        switch step {
        case .queued: "queued"
        case .started: "started"
        case .finished: state.rawValue
        }
    }
}

extension ProjectSession {
    /// A session whose events go out on `events`, continuing the event ids of the last run (the
    /// hub should start from `Journal.lastEventID(in:)` + 1; `ServeRunner` does).
    public convenience init(
        configuration: SessionConfiguration, events: EventHub, logger: Logger = Logger(label: "whisker.serve")
    ) throws {
        try self.init(configuration: configuration, logger: logger, lastEventID: { events.lastEventID })
        observe(SessionEventPublisher(hub: events, json: RecordJSON(configuration: configuration)).publish)
    }
}
