import Foundation
import HTTP
import Hotpatch

/// The API's view of the session's records, shaped as `openapi/openapi.yaml` says.
extension ProjectSession {
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

    /// `PatchLatency` in the spec: the instants, the segments between them, per device.
    static func latencyJSON(_ latency: PatchLatency) -> JSONValue {
        func segments(_ list: [PatchLatency.Segment]) -> JSONValue {
            .object(JSONObject(list.map { ($0.name + "Ms", milliseconds($0.durationMs)) }))
        }
        // Instants not reached (yet) are left out, not null.
        func set(_ object: inout JSONObject, _ name: String, _ date: Date?) {
            if let date { object[name] = preciseTimestamp(date) }
        }
        var object: JSONObject = ["queuedAt": preciseTimestamp(latency.queuedAt)]
        set(&object, "savedAt", latency.savedAt)
        set(&object, "startedAt", latency.startedAt)
        set(&object, "linkedAt", latency.linkedAt)
        set(&object, "finishedAt", latency.finishedAt)
        object["segments"] = segments(latency.serverSegments)
        if let finished = latency.saveToFinishedMs { object["saveToFinishedMs"] = milliseconds(finished) }
        object["devices"] = .array(latency.devices.map { device in
            var entry: JSONObject = ["device": .string(device.device), "status": .string(device.status)]
            set(&entry, "sentAt", device.sentAt)
            set(&entry, "receivedAt", device.receivedAt)
            set(&entry, "appliedAt", device.appliedAt)
            entry["ackedAt"] = preciseTimestamp(device.ackedAt)
            entry["segments"] = segments(latency.deviceSegments(device))
            if let total = latency.saveToAppliedMs(device) { entry["saveToAppliedMs"] = milliseconds(total) }
            if let timings = device.timings {
                var fields: JSONObject = [
                    "parseMs": milliseconds(timings.parseMs), "fetchMs": milliseconds(timings.fetchMs),
                    "loadMs": milliseconds(timings.loadMs), "applyMs": milliseconds(timings.applyMs),
                    "totalMs": milliseconds(timings.totalMs),
                ]
                if let fetch = timings.fetch { fields["fetch"] = .string(fetch) }
                entry["timings"] = .object(fields)
            }
            return .object(entry)
        })
        return .object(object)
    }

    static func failureJSON(_ failure: JobFailure) -> JSONValue {
        var object: JSONObject = ["code": .string(failure.code), "message": .string(failure.message)]
        if let hint = failure.hint { object["hint"] = .string(hint) }
        if let output = failure.diagnostics {
            object["output"] = .string(output)
            object["diagnostics"] = .string(output)
        }
        return .object(object)
    }

    static func phasesJSON(_ phases: [PhaseTiming], state: String = "succeeded") -> JSONValue {
        .array(phases.map { ["name": .string($0.name), "state": .string(state), "durationMs": .int(Int64($0.durationMs.rounded()))] })
    }

    static func hex(_ value: UInt64) -> JSONValue { .string(HexAddress.format(value)) }

    func buildJSON(_ record: BuildRecord) -> JSONValue {
        var object: JSONObject = [
            "id": .string(record.id.rawValue),
            "state": .string(record.state.rawValue),
            "trigger": .string(record.trigger.rawValue),
            "profile": .string(configuration.release ? "release" : "dev"),
            "createdAt": Self.timestamp(record.createdAt),
            "phases": Self.phasesJSON(record.phases),
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
        if let error = record.error { object["error"] = Self.failureJSON(error) }
        return .object(object)
    }

    func patchJSON(_ record: PatchRecord, for aslrReference: UInt64? = nil) -> JSONValue {
        var object: JSONObject = [
            "id": .int(Int64(record.id)),
            "state": .string(record.state.rawValue),
            "trigger": .string(record.trigger.rawValue),
            "createdAt": Self.timestamp(record.createdAt),
            "phases": Self.phasesJSON(record.phases),
            "changedFiles": .array(record.changedFiles.map { .string($0) }),
            "cratesRebuilt": .array(record.cratesRebuilt.map { .string($0) }),
            "appliedBy": .array(record.appliedBy.sorted().map { .string($0) }),
        ]
        if let build = record.buildId { object["buildId"] = .string(build.rawValue) }
        if let started = record.startedAt { object["startedAt"] = Self.timestamp(started) }
        if let finished = record.finishedAt { object["finishedAt"] = Self.timestamp(finished) }
        if !record.phases.isEmpty { object["durationMs"] = .int(Int64(record.phases.reduce(0) { $0 + $1.durationMs }.rounded())) }
        if !record.failedBy.isEmpty {
            object["failedBy"] = .object(JSONObject(record.failedBy.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        if let compilation = record.compilation {
            object["objects"] = .array(compilation.thinPlan.steps.map { step in [
                "crate": .string(step.crateName),
                "output": .string(step.objectPath.path),
                "arguments": .array(step.arguments.map { .string($0) }),
            ] })
            if let units = compilation.units {
                object["codegenUnits"] = .array(units.summaries.map { crate in [
                    "capture": .string(crate.captureFile), "units": .int(Int64(crate.units)),
                    "changed": .int(Int64(crate.changed)), "linked": .int(Int64(crate.linked)),
                ] })
            }
        }
        let link = aslrReference.flatMap(record.link(for:)) ?? record.links.first
        if let link {
            let plan = link.plan
            object["link"] = [
                "linker": .string(plan.library.linkPlan.linker),
                "arguments": .array(plan.library.linkPlan.arguments.map { .string($0) }),
                "output": .string(plan.library.linkPlan.outputPath),
            ]
            var library: JSONObject = [
                "name": .string(URL(fileURLWithPath: link.libraryPath).lastPathComponent),
                "size": .int(Int64(link.size)),
                "sha256": .string(link.sha256),
                "url": .string("/api/patches/\(record.id)/library"),
                "aslrReference": Self.hex(link.aslrReference),
                "linkedFor": .int(Int64(record.links.count)),
                "linkMode": .string(plan.library.linkMode.rawValue),
            ]
            if let fallback = plan.library.sharedLinkFallback { library["sharedLinkFallback"] = .string(fallback) }
            object["library"] = .object(library)
            if let statics = plan.statics {
                func demangled(_ names: [String]) -> JSONValue { .array(names.map { .string(RustDemangler.demangle($0) ?? $0) }) }
                object["statics"] = [
                    "statics": demangled(statics.statics),
                    "threadLocals": demangled(statics.threadLocals),
                    "newStatics": demangled(statics.newStatics),
                    "references": .int(Int64(statics.references)),
                    "executableReferences": .int(Int64(statics.executableReferences)),
                ]
            }
            object["diff"] = [
                "added": .int(Int64(plan.diff.added.count)),
                "removed": .int(Int64(plan.diff.removed.count)),
                "changed": .int(Int64(plan.diff.changed.count)),
                "unchanged": .int(Int64(plan.diff.unchangedCount)),
                "summary": .string(plan.diff.summary),
                "baseline": .string(plan.diff.baseline),
                "codeCompared": .bool(plan.diff.codeCompared),
                "functions": .array(
                    plan.diff.changed.map { ["name": .string($0), "demangled": .string(RustDemangler.demangle($0) ?? $0), "change": "changed"] }
                        + plan.diff.added.map { ["name": .string($0), "demangled": .string(RustDemangler.demangle($0) ?? $0), "change": "added"] }
                        + plan.diff.removed.map { ["name": .string($0), "demangled": .string(RustDemangler.demangle($0) ?? $0), "change": "removed"] }),
            ]
            object["jumpTable"] = (try? JSONValue.parse(Array(link.jumpTableJSON.utf8))) ?? .null
            object["routedFunctions"] = .int(Int64(plan.library.routedFunctions))
            if !plan.diagnostics.isEmpty { object["warnings"] = .string(plan.diagnostics) }
        }
        if let latency = record.latency { object["latency"] = Self.latencyJSON(latency) }
        if let error = record.error { object["error"] = Self.failureJSON(error) }
        return .object(object)
    }

    func deviceJSON(_ device: DeviceRecord) -> JSONValue {
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
        return .object(object)
    }

    /// `GET /api/status` without the server block (the core route adds it).
    public func statusJSON() -> JSONObject {
        let toolchain = toolchain.withLock { $0 }
        let (builds, patches) = journal.withLock { ($0.builds, $0.patches) }
        let current = builds.last { $0.state == .succeeded }
        let latestBuild = builds.last
        let queueEntries = queue.entries
        var object: JSONObject = [
            "project": [
                "name": .string(configuration.project.lastPathComponent),
                "path": .string(configuration.project.path),
                "key": .string(layout.key),
            ],
            "toolchain": [
                "rustc": .string(toolchain?.release ?? "unknown"),
                "host": .string(toolchain?.host ?? "unknown"),
            ],
            "build": current.map(buildJSON) ?? latestBuild.map(buildJSON) ?? .null,
            "queue": .array(queueEntries.map { entry in
                [
                    "kind": .string(entry.kind.rawValue),
                    "id": entry.kind == .patch ? .int(Int64(entry.key) ?? 0) : .string(entry.key),
                    "state": entry.running ? "running" : "queued",
                    "queuedAt": Self.timestamp(entry.queuedAt),
                ]
            }),
            "devices": .array(visibleDevices.map(deviceJSON)),
            "lastPatch": patches.last.map { patchJSON($0) } ?? .null,
        ]
        if let latestBuild, latestBuild.id != current?.id { object["latestBuild"] = buildJSON(latestBuild) }
        object["patchCount"] = .int(Int64(patches.count))
        return object
    }
}
