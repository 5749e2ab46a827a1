import Foundation
import Hotpatch

/// Everything the server journals, so a restart keeps builds, patches and devices.
struct Journal: Codable, Sendable {
    var builds: [BuildRecord] = []
    var patches: [PatchRecord] = []
    var devices: [DeviceRecord] = []
    var lastEventId: UInt64 = 0

    /// Where a project's journal lives: the project store's `journal` record.
    static func file(in layout: ProjectLayout) -> URL {
        ProjectStore(layout).file(.journal)
    }

    /// The project's journal, nil when the server never ran on it (a journal from before the
    /// store, `server-journal.json`, is migrated on the way).
    static func load(_ layout: ProjectLayout) throws -> Journal? {
        try ProjectStore(layout).read(.journal)
    }

    /// Writes the journal (temporary file + rename: a server killed while writing leaves the
    /// previous journal whole); `durable`: synced to the disk as well.
    func save(_ layout: ProjectLayout, durable: Bool = false) throws {
        try ProjectStore(layout).write(self, for: .journal, durable: durable)
    }

    /// The event id the last run reached (0 without a journal), for the event hub to continue from.
    /// An unreadable journal counts as none here: the session reading it next fails with the reason.
    static func lastEventID(in layout: ProjectLayout) -> UInt64 {
        ((try? load(layout)) ?? nil)?.lastEventId ?? 0
    }

    /// A journal read at startup: jobs that had not finished when the server stopped — it was
    /// killed, or the machine went down — failed (`server_stopped`, saying how far each got), and
    /// no device is connected until it polls again. Nothing runs again by itself here (the
    /// startup decides whether the sources need a patch or a build).
    /// Returns whether it changed anything.
    @discardableResult
    mutating func markInterrupted() -> Bool {
        var changed = false
        for index in builds.indices where !builds[index].state.isFinished {
            let when = builds[index].state == .queued ? "before the build started"
                : "during the build" + (builds[index].phases.last.map { " (after its \($0.name) phase)" } ?? "")
            builds[index].state = .failed
            builds[index].error = .serverStopped("the server stopped \(when)")
            changed = true
        }
        for index in builds.indices where builds[index].warmUp.map({ !$0.state.isFinished }) == true {
            builds[index].warmUp = WarmUpRecord(state: .failed, message: "the server stopped during the warm-up")
            changed = true
        }
        for index in patches.indices where !patches[index].state.isFinished {
            let patch = patches[index]
            let when = patch.state == .queued ? "before the patch started"
                : patch.compilation == nil ? "while the patch compiled" : "while the patch linked"
            patches[index].state = .failed
            patches[index].error = .serverStopped("the server stopped \(when)")
            // A library linked before the stop was never committed: not listed, not served.
            patches[index].links = []
            changed = true
        }
        for index in devices.indices where devices[index].state != .lost {
            devices[index].state = .lost
        }
        return changed
    }

    /// Adds the record of a job the server had started but not yet journaled (``RunningJob``);
    /// a job the journal already has is left as the journal says.
    mutating func adopt(_ running: RunningJob) {
        if let build = running.build, record(BuildRecord.self, build.key) == nil { builds.append(build) }
        if let patch = running.patch, record(PatchRecord.self, patch.key) == nil {
            patches.append(patch)
            patches.sort { $0.id < $1.id }
        }
    }
}

extension JobFailure {
    /// A job the server's stop interrupted (the journal's `markInterrupted`).
    static func serverStopped(_ message: String) -> JobFailure {
        JobFailure(code: "server_stopped", message: message,
                   hint: "the restarted server patches sources that changed since; save again, or POST /api/patches or /api/builds")
    }
}

extension ProjectStore.Key where Value == Journal {
    /// The server's builds, patches, devices and last event id.
    static var journal: Self { .init("journal", legacyFile: "server-journal.json") }
}

/// The record of a job as it started, written (`running-<kind>-<key>` in the project store) on
/// the job thread before the job does any work, and removed once a journal write carries the
/// job. The journal itself is written off the job thread, coalesced: a server killed between a
/// job's start and that write would otherwise restart without a trace of the job it was running.
struct RunningJob: Codable, Sendable {
    var build: BuildRecord?
    var patch: PatchRecord?

    var kind: JobQueue.Kind { build == nil ? .patch : .build }
    var key: String { build?.key ?? patch?.key ?? "" }

    static func key(kind: JobQueue.Kind, key: String) -> ProjectStore.Key<RunningJob> {
        .init("\(prefix)\(kind.rawValue)-\(key)")
    }

    static let prefix = "running-"

    /// The markers in the store (normally none, or the one of the job a killed server ran).
    /// An unreadable marker is skipped: it can only say less than the journal.
    static func load(_ layout: ProjectLayout) -> [RunningJob] {
        let store = ProjectStore(layout)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: store.directory.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted().compactMap { name in
            (try? store.read(ProjectStore.Key<RunningJob>(String(name.dropLast(".json".count))))) ?? nil
        }
    }

    func save(_ layout: ProjectLayout) throws {
        try ProjectStore(layout).write(self, for: Self.key(kind: kind, key: key))
    }

    /// Removes the marker of that job (once the journal carries it).
    static func remove(kind: JobQueue.Kind, key: String, layout: ProjectLayout) {
        unlink(ProjectStore(layout).file(Self.key(kind: kind, key: key)).path)
    }
}
