import Foundation
import Hotpatch

/// What a caller asks of a new fat build. The project's build settings are the server's
/// (`serve --bin/--package/--target/--release`); a request can only confirm them: every member
/// given must be what the server builds (`nil` takes the server's).
public struct BuildRequest: Sendable, Equatable {
    /// The cargo profile the caller expects (`dev` or `release`).
    public var profile: String?
    public var package: String?
    public var bin: String?
    /// The target triple; the server's is the host's unless `serve --target` named one.
    public var target: String?
    /// Cargo features; the server passes none (the default features), so only `[]` confirms it.
    public var features: [String]?

    public init(profile: String? = nil, package: String? = nil, bin: String? = nil, target: String? = nil, features: [String]? = nil) {
        self.profile = profile
        self.package = package
        self.bin = bin
        self.target = target
        self.features = features
    }
}

/// What a caller asks of a new patch.
public struct PatchRequest: Sendable, Equatable {
    /// The build id the caller believes is current; `nil` patches whatever is.
    public var build: String?

    public init(build: String? = nil) {
        self.build = build
    }
}

/// A running app joining the session.
public struct DeviceRegistration: Sendable, Equatable {
    public var name: String
    public var pid: Int64
    /// The compile-time target triple of the app.
    public var triple: String
    /// The runtime address of the executable's `main` in that process.
    public var aslrReference: UInt64
    /// The build the app was started from; `nil` means the current one.
    public var buildId: String?
    /// The device this process was before it restarted into a new build (the runtime passes it on
    /// in `WHISKER_RESTARTED_FROM`): that record is then done, not lost.
    public var restartedFrom: String?

    public init(name: String, pid: Int64, triple: String, aslrReference: UInt64, buildId: String? = nil, restartedFrom: String? = nil) {
        self.restartedFrom = restartedFrom
        self.name = name
        self.pid = pid
        self.triple = triple
        self.aslrReference = aslrReference
        self.buildId = buildId
    }
}

/// A device's report on one patch.
public struct DeviceAck: Sendable {
    /// Whether the patch is live in the app.
    public enum Status: String, Sendable, CaseIterable {
        case applied, failed
    }

    public var patch: Int
    public var status: Status
    /// The device's error text (for `failed`).
    public var error: String?
    /// The device's wall clock when it read the poll answer and when the table was live.
    public var receivedAt: Date?
    public var appliedAt: Date?
    /// The device's own measurements of the steps.
    public var timings: PatchLatency.DeviceTimings?

    public init(
        patch: Int, status: Status, error: String? = nil, receivedAt: Date? = nil, appliedAt: Date? = nil,
        timings: PatchLatency.DeviceTimings? = nil
    ) {
        self.patch = patch
        self.status = status
        self.error = error
        self.receivedAt = receivedAt
        self.appliedAt = appliedAt
        self.timings = timings
    }
}

/// One line of a device's forwarded output.
public struct DeviceLogLine: Sendable, Equatable {
    /// Which of the app's streams the line came from.
    public enum Stream: String, Sendable, CaseIterable {
        case stdout, stderr
    }

    public var stream: Stream
    public var text: String
    /// The device's wall clock when it read the line, if it said.
    public var time: Date?

    public init(stream: Stream, text: String, time: Date? = nil) {
        self.stream = stream
        self.text = text
        self.time = time
    }
}

/// One `POST /api/devices/{id}/logs`: lines, and how many the device lost since its last batch.
public struct DeviceLogBatch: Sendable, Equatable {
    public var lines: [DeviceLogLine]
    /// Lines the device could not deliver (its queue was full, or the server away).
    public var dropped: Int

    public init(lines: [DeviceLogLine], dropped: Int = 0) {
        self.lines = lines
        self.dropped = dropped
    }
}
