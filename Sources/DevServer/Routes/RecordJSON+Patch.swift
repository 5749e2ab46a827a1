import Foundation
import HTTP
import Hotpatch

extension RecordJSON {
    /// A patch (`PatchPlan` in the spec), with the library and jump table of the process at
    /// `aslrReference` when there is one, else of its first link.
    func patch(_ record: PatchRecord, for aslrReference: UInt64? = nil) -> JSONValue {
        var object: JSONObject = [
            "id": .int(Int64(record.id)),
            "state": .string(record.state.rawValue),
            "trigger": .string(record.trigger.rawValue),
            "createdAt": Self.timestamp(record.createdAt),
            "phases": Self.phases(record.phases),
            "changedFiles": .array(record.changedFiles.map { .string($0) }),
            "cratesRebuilt": .array(record.cratesRebuilt.map { .string($0) }),
            "appliedBy": .array(record.appliedBy.sorted().map { .string($0) }),
        ]
        if let build = record.buildId { object["buildId"] = .string(build.rawValue) }
        if let reverted = record.revertOf {
            object["revertOf"] = .int(Int64(reverted))
            // null: the fat build's code (or, while queued, not decided yet).
            object["revertTo"] = record.revertTo.map { .int(Int64($0)) } ?? .null
        }
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
            let limit = Self.patchFunctionLimit
            let truncated = [plan.diff.changed, plan.diff.added, plan.diff.removed].contains { $0.count > limit }
            object["diff"] = [
                "added": .int(Int64(plan.diff.added.count)),
                "removed": .int(Int64(plan.diff.removed.count)),
                "changed": .int(Int64(plan.diff.changed.count)),
                "unchanged": .int(Int64(plan.diff.unchangedCount)),
                "summary": .string(plan.diff.summary),
                "baseline": .string(plan.diff.baseline),
                "codeCompared": .bool(plan.diff.codeCompared),
                "functions": Self.functions(changed: plan.diff.changed, added: plan.diff.added, removed: plan.diff.removed, limit: limit),
                "functionsTruncated": .bool(truncated),
            ]
            object["jumpTable"] = Self.jumpTable(link.table)
            object["routedFunctions"] = .int(Int64(plan.library.routedFunctions))
            if !plan.diagnostics.isEmpty { object["warnings"] = .string(plan.diagnostics) }
        }
        if let latency = record.latency { object["latency"] = Self.latency(latency) }
        if let error = record.error { object["error"] = Self.failure(error) }
        // Known only once the checks ran: true for a patch that got this far, false with the
        // reasons for one refused.
        if let reasons = record.error?.reasons {
            object["patchable"] = false
            object["reasons"] = .array(reasons.map(Self.reason))
        } else if record.state == .succeeded {
            object["patchable"] = true
        }
        return .object(object)
    }

    /// `PatchLatency` in the spec: the instants, the segments between them, per device.
    static func latency(_ latency: PatchLatency) -> JSONValue {
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

    /// One `reasons` entry: `{code, message}` and, where they apply, `type`, `oldSize`, `newSize`, `file`.
    static func reason(_ reason: UnpatchableReason) -> JSONValue {
        var object: JSONObject = ["code": .string(reason.code), "message": .string(reason.message)]
        if let type = reason.type { object["type"] = .string(RustDemangler.demangle(type) ?? type) }
        if let size = reason.oldSize { object["oldSize"] = .int(Int64(size)) }
        if let size = reason.newSize { object["newSize"] = .int(Int64(size)) }
        if let file = reason.file { object["file"] = .string(file) }
        return .object(object)
    }
}
