import Foundation
import HTTP
import Hotpatch

/// The session's records as the API shows them (responses and event data), shaped as
/// `openapi/openapi.yaml` says. The only place that knows those JSON shapes.
struct RecordJSON: Sendable {
    /// The server's build settings, which every build reports.
    let configuration: SessionConfiguration

    static func timestamp(_ date: Date?) -> JSONValue {
        guard let date else { return .null }
        return .string(date.formatted(.iso8601))
    }

    /// An ISO 8601 timestamp with milliseconds (latency instants are milliseconds apart).
    static func preciseTimestamp(_ date: Date?) -> JSONValue {
        guard let date else { return .null }
        return .string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    static func milliseconds(_ value: Double) -> JSONValue { .double((value * 10).rounded() / 10) }

    static func failure(_ failure: JobFailure) -> JSONValue {
        var object: JSONObject = ["code": .string(failure.code), "message": .string(failure.message)]
        if let hint = failure.hint { object["hint"] = .string(hint) }
        if let output = failure.diagnostics {
            object["output"] = .string(output)
            object["diagnostics"] = .string(output)
        }
        return .object(object)
    }

    /// The phases of a finished step; every one of them succeeded.
    static func phases(_ phases: [PhaseTiming]) -> JSONValue {
        .array(phases.map { ["name": .string($0.name), "state": "succeeded", "durationMs": .int(Int64($0.durationMs.rounded()))] })
    }

    static func hex(_ value: UInt64) -> JSONValue { .string(HexAddress.format(value)) }

    /// Where a device downloads its library of a patch.
    static func libraryURL(patchId: Int, deviceId: String) -> String {
        "/api/patches/\(patchId)/library?device=\(deviceId)"
    }

    func build(_ record: BuildRecord) -> JSONValue {
        var object: JSONObject = [
            "id": .string(record.id.rawValue),
            "state": .string(record.state.rawValue),
            "trigger": .string(record.trigger.rawValue),
            "profile": .string(configuration.profile),
            "createdAt": Self.timestamp(record.createdAt),
            "phases": Self.phases(record.phases),
            "logUrl": .string("/api/builds/\(record.id.rawValue)/log"),
        ]
        if let bin = configuration.bin { object["bin"] = .string(bin) }
        if let package = configuration.package { object["package"] = .string(package) }
        if let started = record.startedAt { object["startedAt"] = Self.timestamp(started) }
        if let finished = record.finishedAt { object["finishedAt"] = Self.timestamp(finished) }
        if let build = record.build {
            object["target"] = .string(build.target)
            object["durationMs"] = .int(Int64(build.durationMs.rounded()))
            object["binaryPath"] = .string(build.binary)
            if let size = record.binarySize { object["binarySize"] = .int(Int64(size)) }
            if let sha256 = record.binarySha256 { object["binarySha256"] = .string(sha256) }
            if let symbols = build.symbols { object["symbolCount"] = .int(Int64(symbols)) }
            object["invocations"] = .array(build.crates.compactMap { crate in
                guard let capture = crate.capture else { return nil }
                return [
                    "kind": "rustc", "crate": .string(crate.crateName),
                    "crateTypes": .array(crate.crateTypes.map { .string($0) }), "path": .string(capture),
                ]
            })
        } else if let started = record.startedAt, let finished = record.finishedAt {
            object["durationMs"] = .int(Int64((finished.timeIntervalSince(started) * 1000).rounded()))
        }
        if let error = record.error { object["error"] = Self.failure(error) }
        if let warmUp = record.warmUp { object["warmUp"] = Self.warmUp(warmUp) }
        return .object(object)
    }

    /// A build's `warmUp` object, and the data of its `build.warmUp` events.
    static func warmUp(_ warmUp: WarmUpRecord) -> JSONValue {
        var value: JSONObject = ["state": .string(warmUp.state.rawValue)]
        if let duration = warmUp.durationMs { value["durationMs"] = .int(Int64(duration.rounded())) }
        if let message = warmUp.message { value["message"] = .string(message) }
        return .object(value)
    }

    func device(_ device: DeviceRecord) -> JSONValue {
        var object: JSONObject = [
            "id": .string(device.id),
            "name": .string(device.name),
            "pid": .int(device.pid),
            "triple": .string(device.triple),
            "buildId": .string(device.buildId.rawValue),
            "aslrReference": Self.hex(device.aslrReference),
            "state": .string(device.state.rawValue),
            "registeredAt": Self.timestamp(device.registeredAt),
            "lastSeenAt": Self.timestamp(device.lastSeenAt),
            "lastAppliedPatch": device.lastAppliedPatch.map { .int(Int64($0)) } ?? .null,
        ]
        if let slide = device.slide { object["slide"] = Self.hex(slide) }
        if let error = device.lastError { object["lastError"] = .string(error) }
        if let from = device.restartedFrom { object["restartedFrom"] = .string(from) }
        if let into = device.restartedAs { object["restartedAs"] = .string(into) }
        return .object(object)
    }

    /// A device poll's answer telling it to restart: no patches, the new build's binary.
    static func restart(_ offer: RestartOffer) -> JSONValue {
        ["patches": .array([]), "restart": [
            "buildId": .string(offer.buildId.rawValue),
            "binaryPath": .string(offer.binaryPath),
            "binaryUrl": .string("/api/builds/\(offer.buildId.rawValue)/binary"),
            "sha256": .string(offer.sha256),
        ]]
    }

    /// A device poll's answer: `{"patches": [{id, sha256, libraryUrl, jumpTable}]}`.
    static func pendingPatches(_ patches: [PendingPatch], deviceId: String) -> JSONValue {
        ["patches": .array(patches.map { patch in
            [
                "id": .int(Int64(patch.id)),
                "sha256": .string(patch.sha256),
                "libraryUrl": .string(libraryURL(patchId: patch.id, deviceId: deviceId)),
                "jumpTable": jumpTable(patch.jumpTable),
            ]
        })]
    }
}
