import Foundation
import Hotpatch

/// The one vocabulary of job states, shared by the CLI, the API, SSE and the page.
public enum JobState: String, Codable, Sendable {
    case queued, running, succeeded, failed, cancelled

    var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// Why a job failed, as the API shows it (`JobError` in the spec).
public struct JobFailure: Codable, Sendable, Equatable {
    public var code: String
    public var message: String
    public var hint: String?
    /// rustc's, cargo's or the linker's output, when that is what failed.
    public var diagnostics: String?
    /// Why the edit can't be patched, when that is why the patch failed (`not_patchable`,
    /// `new_thread_local`); the API shows them as the patch's `reasons`.
    public var reasons: [UnpatchableReason]?

    /// The failure of a job that threw `error`, reported the way `SessionError` reports it.
    init(_ error: any Error) {
        let reported = SessionError(wrapping: error)
        code = reported.identifier
        message = reported.message
        hint = reported.hint
        diagnostics = reported.diagnostics
        reasons = Self.unpatchableReasons(error) ?? reported.underlyingError.flatMap(Self.unpatchableReasons)
    }

    private static func unpatchableReasons(_ error: any Error) -> [UnpatchableReason]? {
        if let refused = error as? NotPatchableError { return refused.reasons }
        if let relocate = error as? RelocateError, case .newThreadLocal(let name, _) = relocate {
            return [UnpatchableReason(code: "new_thread_local", message: relocate.message, type: name)]
        }
        return nil
    }

    init(code: String, message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    /// The message plus the tool's first `error` line, for one line of the server log (the whole
    /// output is in the API's `error.diagnostics`).
    var logLine: String {
        guard let diagnostics,
              let first = diagnostics.split(whereSeparator: \.isNewline).first(where: { $0.contains("error") })
        else { return message }
        return "\(message) — \(first.trimmingCharacters(in: .whitespaces))"
    }
}

/// What started a job.
public enum JobTrigger: String, Codable, Sendable {
    /// `revert`: a revert record (`POST /api/patches/{id}/revert`), which compiles nothing.
    case watch, api, cli, startup, revert
}

/// A fat build as the server tracks it, from queued to finished.
struct BuildRecord: Codable, Sendable {
    var id: BuildID
    var state: JobState
    var trigger: JobTrigger
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var phases: [PhaseTiming] = []
    var build: FatBuild?
    var binarySize: Int?
    /// The kept binary's sha256: what a device restarting into this build checks.
    var binarySha256: String?
    var error: JobFailure?
    /// The warm-up that follows a succeeded build (see ``WarmUpRecord``); nil before it starts.
    var warmUp: WarmUpRecord?
}

/// The warm-up after a fat build: the workspace crates compiled the way patches will be, so the
/// first patch is incremental and links only what its edit changed. It runs after the build is
/// announced `succeeded` (the binary is ready to start; the warm-up is not needed to run it) and
/// before any job queued behind the build, so a patch waits for it rather than racing it.
struct WarmUpRecord: Codable, Sendable {
    var state: JobState
    var durationMs: Double?
    /// Why there is no baseline (a failed compile, or a source saved while it ran).
    var message: String?
}

/// A patch as the server tracks it: the compile, then one shared link (or one link per device
/// slide where the target needs it).
struct PatchRecord: Codable, Sendable {
    var id: Int
    var buildId: BuildID?
    var state: JobState
    var trigger: JobTrigger
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var phases: [PhaseTiming] = []
    var changedFiles: [String] = []
    var cratesRebuilt: [String] = []
    var compilation: StoredCompilation?
    var links: [LinkRecord] = []
    var error: JobFailure?
    var appliedBy: [String] = []
    /// Devices whose ack said the patch failed, with their error text.
    var failedBy: [String: String] = [:]
    /// Save → applied (nil in journals written before it was measured).
    var latency: PatchLatency?
    /// Server clock: when each device's poll was first answered with this patch (its ack's `sentAt`).
    var sentAt: [String: Date]?
    /// A revert record (``JobTrigger/revert``): the patch it reverts. It compiles nothing; its
    /// links are the table of the patch before that one (``revertTo``) or the fat build's.
    var revertOf: Int?
    /// The patch whose table a revert serves again; nil for the fat build's (or before it ran).
    var revertTo: Int?

    /// Whether this is a revert record rather than a compiled patch.
    var isRevert: Bool { revertOf != nil }

    /// Changes the latency and keeps every link's plan in step with it (the plan is what the API
    /// and `plan.json` serve).
    mutating func updateLatency(_ change: (inout PatchLatency) -> Void) {
        var value = latency ?? PatchLatency(savedAt: nil, queuedAt: createdAt)
        change(&value)
        latency = value
        for index in links.indices { links[index].plan.latency = value }
    }

    func link(for aslrReference: UInt64) -> LinkRecord? {
        if let exact = links.first(where: { $0.aslrReference == aslrReference }) { return exact }
        return links.first(where: \.isShared)?.resliding(to: aslrReference)
    }
}

/// Device states on the page and in the API.
public enum DeviceState: String, Codable, Sendable {
    case connected, applying, up_to_date, failed, lost
    /// Told to restart into a newer build (its process is replaced; the new one registers anew).
    case restarting
}

/// A running app that registered with the server.
struct DeviceRecord: Codable, Sendable {
    var id: String
    var name: String
    var pid: Int64
    var triple: String
    var buildId: BuildID
    var aslrReference: UInt64
    var slide: UInt64?
    var state: DeviceState
    var registeredAt: Date
    var lastSeenAt: Date
    var lastAppliedPatch: Int?
    var lastError: String?
    var removed: Bool = false
    /// The device this process was before its restart (``DeviceRegistration/restartedFrom``).
    var restartedFrom: String? = nil
    /// For a device that restarted: the device its new process registered as.
    var restartedAs: String? = nil
}
