import Foundation
import Hotpatch

/// Everything about a session that changes, in one value behind the session's one lock
/// (`ProjectSession.state`): the records, the job queue, what was looked up once, the observers.
///
/// A change is made with ``ProjectSession/change(_:)``, which holds the lock for the whole
/// change, so a record, the queue and the events that report them can never disagree. Nothing in
/// here blocks: the pipeline runs outside the lock.
struct SessionState: Sendable {
    var journal: Journal
    var queue = JobQueue()
    /// File address of `main` per build (see `ProjectSession.anchorAddress(of:)`).
    var anchors: [BuildID: UInt64] = [:]
    var toolchain: RustcVersion?
    /// What apps saved for their hot restarts, by device (not journaled: see ``SavedStates``).
    var savedStates = SavedStates()
    /// The last lines of each device's output (not journaled; see `ProjectSession+Logs.swift`).
    var deviceLogs: [String: DeviceLogRing] = [:]
    var observers: [@Sendable (SessionEvent) -> Void] = []
    /// Called after a build succeeds or a patch changes the tracked sources (the watcher follows).
    var sourcesChanged: (@Sendable () -> Void)?
    /// A journal write is scheduled and has not taken its snapshot yet: later changes ride along.
    var journalWriteScheduled = false
    /// `shutdown` wrote the last journal: nothing is written after it (the process is ending, or
    /// a test removes the directory).
    var journalClosed = false
    /// Jobs whose ``RunningJob`` marker is in the store: each is removed once a journal write
    /// carries the job.
    var markedJobs: [(kind: JobQueue.Kind, key: String)] = []
    /// Files a record now names (libraries, kept binaries, build records) that were written
    /// without `fsync`: the next journal write syncs them first, so a journal on disk never
    /// names bytes a power loss could take.
    var unsyncedFiles: [String] = []

    /// Events of the change in progress, handed to the observers when it ends.
    private(set) var outbox: [SessionEvent] = []
    /// Whether the change in progress changed something the journal keeps.
    private(set) var journalChanged = false
    /// Whether that change should be written at once rather than coalesced (a job ended).
    private(set) var journalUrgent = false

    init(journal: Journal) {
        self.journal = journal
    }

    /// Reports `event` once the change ends, after the events of earlier changes.
    mutating func emit(_ event: SessionEvent) {
        outbox.append(event)
    }

    /// The journal must be written (soon, coalesced with other changes); `urgent`: now, because
    /// a job ended — the window in which a killed server would forget how it ended stays as
    /// short as one write.
    mutating func journalDidChange(urgent: Bool = false) {
        journalChanged = true
        journalUrgent = journalUrgent || urgent
    }

    /// What the change left to do after it: its events, and whether to write the journal (now).
    mutating func takeEffects() -> (events: [SessionEvent], journal: Bool, urgent: Bool) {
        defer {
            outbox = []
            journalChanged = false
            journalUrgent = false
        }
        return (outbox, journalChanged, journalUrgent)
    }

    // MARK: records

    /// Changes a record in place; the changed record, or nil when there is none.
    @discardableResult
    mutating func update<Record: JournalRecord>(
        _ type: Record.Type, _ key: String, _ change: (inout Record) -> Void
    ) -> Record? {
        journal.update(type, key, change)
    }

    /// Ends a job's record in `state` and reports it.
    mutating func finish<Record: JobRecord>(
        _ type: Record.Type, _ key: String, _ state: JobState, error: JobFailure?, at date: Date
    ) {
        guard let record = update(type, key, { $0.finish(state, error: error, at: date) }) else { return }
        emit(Record.event(.finished, record))
        journalDidChange(urgent: true)
    }

    /// Ends the record of `job` (a build or a patch) in `state` and reports it.
    mutating func finishJob(_ job: JobQueue.Job, _ state: JobState, error: JobFailure?, at date: Date) {
        switch job.kind {
        case .build: finish(BuildRecord.self, job.key, state, error: error, at: date)
        case .patch: finish(PatchRecord.self, job.key, state, error: error, at: date)
        }
    }

    /// Reports `step` with the device's record as it is now (removed ones included).
    mutating func emitDevice(_ step: SessionEvent.DeviceStep, _ id: String) {
        guard let device = journal.record(DeviceRecord.self, id) else { return }
        emit(.device(step, device))
    }

    /// The newest build that succeeded: the one new devices and patches use.
    var currentBuild: BuildRecord? {
        journal.builds.last { $0.state == .succeeded }
    }

    /// A registered device that has not been removed.
    func visibleDevice(_ id: String) -> DeviceRecord? {
        journal.devices.first { $0.id == id && !$0.removed }
    }

    /// The devices of `build` that are neither removed nor lost.
    func liveDevices(of build: BuildID) -> [DeviceRecord] {
        journal.devices.filter { $0.buildId == build && !$0.removed && $0.state != .lost }
    }

    /// The first queued patch that compiles the sources: a save may join it, never a queued revert
    /// (which compiles nothing and must not pick up the edit).
    var firstQueuedCompile: String? {
        queue.pending.first { job in
            job.kind == .patch && journal.record(PatchRecord.self, job.key)?.isRevert == false
        }?.key
    }

    /// The succeeded patches of `build`, oldest first.
    func succeededPatches(of build: BuildID) -> [PatchRecord] {
        journal.patches.filter { $0.buildId == build && $0.state == .succeeded }.sorted { $0.id < $1.id }
    }
}
