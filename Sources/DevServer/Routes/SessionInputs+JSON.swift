import Foundation
import HTTP
import Hotpatch

// Request bodies read into the session's typed inputs. Shape errors are the client's and become
// 400s here (`JSONFieldError`, `HTTPError.badRequest`); whether the values make sense is the
// session's to say.

extension BuildRequest {
    /// `POST /api/builds` (`BuildRequest` in the spec): every member is read and checked for its
    /// shape here; whether it matches what the server builds is the session's to say (409).
    init(_ body: JSONFields) throws {
        try body.rejectUnknownFields(allowed: ["profile", "package", "bin", "target", "features"])
        let features = try body.optionalArray("features")?.enumerated().map { index, value throws(JSONFieldError) -> String in
            guard case .string(let name) = value, !name.isEmpty else {
                throw JSONFieldError(field: body.fieldPath("features[\(index)]"), problem: .invalid("must be a feature name (a non-empty string)"))
            }
            return name
        }
        self.init(
            profile: try body.optionalOneOf("profile", ["dev", "release"]),
            package: try body.optionalNonEmptyString("package"),
            bin: try body.optionalNonEmptyString("bin"),
            target: try body.optionalNonEmptyString("target"),
            features: features)
    }
}

extension PatchRequest {
    /// `POST /api/patches` without its `aslrReference`, which only shapes the answer.
    init(_ body: JSONFields) throws {
        try body.rejectUnknownFields(allowed: ["build", "aslrReference"])
        self.init(build: try body.optionalString("build"))
    }
}

extension DeviceRegistration {
    /// `POST /api/devices` (`DeviceRegistration` in the spec); `buildId` may be `null` (the
    /// runtime sends that when `WHISKER_BUILD_ID` is unset: the current build).
    init(_ body: JSONFields) throws {
        try body.rejectUnknownFields(allowed: ["name", "pid", "triple", "buildId", "aslrReference", "restartedFrom"])
        let pid = try body.int("pid", as: Int32.self)
        guard pid >= 1 else { throw JSONFieldError(field: body.fieldPath("pid"), problem: .invalid("must be a process id (1 or more), got \(pid)")) }
        self.init(
            name: try body.nonEmptyString("name"),
            pid: Int64(pid),
            triple: try body.nonEmptyString("triple"),
            aslrReference: try body.hexAddress("aslrReference"),
            buildId: try body.optionalString("buildId"),
            restartedFrom: try body.optionalDeviceId("restartedFrom"))
    }
}

extension DeviceAck {
    /// `POST /api/devices/{id}/acks` (`Ack` in the spec); instants are epoch milliseconds.
    init(_ body: JSONFields) throws {
        try body.rejectUnknownFields(allowed: ["patch", "status", "error", "receivedAt", "appliedAt", "timings"])
        let patch = try body.int("patch", as: Int32.self)
        guard patch >= 1 else { throw JSONFieldError(field: body.fieldPath("patch"), problem: .invalid("must be a patch id (1 or more), got \(patch)")) }
        let status = try body.oneOf("status", as: Status.self)
        let error = try body.optionalString("error")
        let receivedAt = try body.optionalDouble("receivedAt").map { Date(timeIntervalSince1970: $0 / 1000) }
        let appliedAt = try body.optionalDouble("appliedAt").map { Date(timeIntervalSince1970: $0 / 1000) }
        let timings = try body.optionalObject("timings").map(PatchLatency.DeviceTimings.init)
        self.init(
            patch: Int(patch), status: status, error: error, receivedAt: receivedAt,
            appliedAt: appliedAt, timings: timings)
    }
}

extension PatchLatency.DeviceTimings {
    /// The ack's `timings` object (`DeviceTimings` in the spec).
    init(_ fields: JSONFields) throws {
        try fields.rejectUnknownFields(allowed: ["parseMs", "fetchMs", "loadMs", "applyMs", "totalMs", "fetch"])
        let parse = try fields.optionalDouble("parseMs") ?? 0
        let fetch = try fields.optionalDouble("fetchMs") ?? 0
        let load = try fields.optionalDouble("loadMs") ?? 0
        let apply = try fields.optionalDouble("applyMs") ?? 0
        let total = try fields.optionalDouble("totalMs") ?? (parse + fetch + load + apply)
        for (name, value) in [("parseMs", parse), ("fetchMs", fetch), ("loadMs", load), ("applyMs", apply), ("totalMs", total)]
        where value < 0 || !value.isFinite || value > 1e12 {
            // Bounded so sums of them stay finite (an infinite segment would be JSON null).
            throw HTTPError.badRequest("\(fields.fieldPath(name)) must be a number of milliseconds from 0 to 1e12")
        }
        self.init(
            parseMs: parse, fetchMs: fetch, loadMs: load, applyMs: apply, totalMs: total,
            fetch: try fields.optionalOneOf("fetch", ["local", "download"]))
    }
}

extension DeviceLogBatch {
    /// The body of `POST /api/devices/{id}/logs` (`DeviceLogs` in the spec): at most 1000 `lines`,
    /// each `time` in Unix-epoch milliseconds, and an optional non-negative `dropped`.
    init(_ body: JSONFields) throws {
        try body.rejectUnknownFields(allowed: ["lines", "dropped"])
        let lines = try body.array("lines")
        guard lines.count <= 1000 else { throw HTTPError.badRequest("at most 1000 lines per request") }
        let parsed = try lines.enumerated().map { index, line in
            let fields = try JSONFields(line, path: "lines[\(index)]")
            try fields.rejectUnknownFields(allowed: ["stream", "text", "time"])
            let stream = try fields.oneOf("stream", as: DeviceLogLine.Stream.self)
            let time = try fields.optionalDouble("time")
            // Up to the end of the year 9999: later instants have no RFC 3339 form to show them in.
            if let time, !time.isFinite || time < 0 || time > 253_402_300_799_999 {
                throw HTTPError.badRequest("\(fields.fieldPath("time")) must be milliseconds since the Unix epoch, at most 253402300799999 (the year 9999)")
            }
            return DeviceLogLine(
                stream: stream, text: try fields.string("text"), time: time.map { Date(timeIntervalSince1970: $0 / 1000) })
        }
        let dropped = try body.optionalInt("dropped") ?? 0
        guard dropped >= 0, dropped <= Int64(Int32.max) else {
            throw HTTPError.badRequest("\(body.fieldPath("dropped")) must be a non-negative count")
        }
        self.init(lines: parsed, dropped: Int(dropped))
    }
}

extension JSONFields {
    /// A string that must be the raw value of one of `type`'s cases.
    func oneOf<Value: RawRepresentable & CaseIterable>(_ name: String, as type: Value.Type) throws(JSONFieldError) -> Value
    where Value.RawValue == String {
        let text = try oneOf(name, Value.allCases.map(\.rawValue))
        for value in Value.allCases where value.rawValue == text { return value }
        // `oneOf` accepted only those raw values.
        throw JSONFieldError(field: fieldPath(name), problem: .invalid("is not a known value"))
    }

    /// An optional string that must be one of `allowed` when present.
    func optionalOneOf(_ name: String, _ allowed: [String]) throws(JSONFieldError) -> String? {
        guard value(name) != nil else { return nil }
        return try oneOf(name, allowed)
    }

    /// An optional string that must not be empty when present.
    func optionalNonEmptyString(_ name: String) throws(JSONFieldError) -> String? {
        guard value(name) != nil else { return nil }
        return try nonEmptyString(name)
    }

    /// An optional device id (`d` and letters, digits, `_`, `-`: `DeviceIdString` in the spec).
    func optionalDeviceId(_ name: String) throws(JSONFieldError) -> String? {
        guard let text = try optionalString(name) else { return nil }
        let rest = text.utf8.dropFirst()
        guard text.hasPrefix("d"), !rest.isEmpty,
              rest.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F || $0 == 0x2D })
        else {
            throw JSONFieldError(field: fieldPath(name), problem: .invalid("must be a device id such as \"d1a2b3c\", got '\(text)'"))
        }
        return text
    }

    /// 400 `invalid_field` for the first member not in `allowed`.
    func rejectUnknownFields(allowed: Set<String>) throws(HTTPError) {
        for key in object.keys where !allowed.contains(key) {
            throw HTTPError.badRequest(code: "invalid_field", "unknown field '\(fieldPath(key))'")
        }
    }
}
