import Foundation
import Hotpatch
import Logging
import Synchronization

/// Everything the server knows about its one project: builds, patches, devices and the job queue
/// that runs the pipeline. Every change is journaled in the project's cache directory and
/// reported to the session's observers as a `SessionEvent`.
///
/// The session knows nothing of HTTP: it takes typed inputs (`BuildRequest`,
/// `DeviceRegistration`, …), answers with records and throws `SessionError`. The routes turn
/// requests into those inputs and the answers into JSON and statuses.
///
/// One owner for the state: all of it is one `SessionState` behind one `Mutex`, changed only
/// through ``change(_:)``. The work runs elsewhere, never under the lock: jobs on the job thread,
/// links on the link executor (one at a time), event delivery and journal writes on their own
/// serial executors. The pipeline is a `PatchPipeline` and time comes from a `SessionClock`, both
/// injectable, so tests drive the session without rustc.
public final class ProjectSession: Sendable {
    public let configuration: SessionConfiguration
    public let layout: ProjectLayout
    let pipeline: any PatchPipeline
    let clock: any SessionClock
    let logger: Logger
    /// The session's state, all of it.
    let state: Mutex<SessionState>
    /// The id of the newest event the observers published, journaled so that a restarted server
    /// continues the ids (browsers' `Last-Event-ID` stays meaningful).
    let lastEventID: @Sendable () -> UInt64
    let jobs = JobThread()
    /// Runs every link, one at a time: a patch job, a late device and a request may link the same
    /// patch, a link writes into the patch's directory, and "is it linked yet?" must not change
    /// between the look and the link.
    let linkExecutor = DispatchQueue(label: "whisker.links")
    /// Hands events to the observers in the order the changes happened, on a thread that holds
    /// nothing of the session's (an observer may call back into it, even to link).
    let eventExecutor = DispatchQueue(label: "whisker.session-events")
    /// Journal writes, coalesced off the calling thread: an ack from each of 16 devices must not
    /// encode the whole journal 16 times on the HTTP thread.
    let journalExecutor = DispatchQueue(label: "whisker.journal")

    /// Loads the journal of an earlier run, if any, with the job a killed server had started
    /// and not yet journaled (``RunningJob``); its unfinished jobs are `failed`
    /// (`server_stopped`) and its devices `lost` until they poll again. Throws what reading the
    /// journal throws. `pipeline` and `clock` default to the real ones.
    init(
        configuration: SessionConfiguration, logger: Logger = Logger(label: "whisker.serve"),
        lastEventID: @escaping @Sendable () -> UInt64,
        pipeline: (any PatchPipeline)? = nil, clock: any SessionClock = SystemClock()
    ) throws {
        let layout = ProjectLayout(project: configuration.project, cacheDirectory: configuration.cacheDirectory)
        let pipeline = pipeline ?? LivePipeline(configuration: configuration, layout: layout, logger: logger)
        self.configuration = configuration
        self.layout = layout
        self.logger = logger
        self.lastEventID = lastEventID
        self.pipeline = pipeline
        self.clock = clock
        ProjectStore(layout).removeAbandonedWrites()
        var journal = try Journal.load(layout) ?? Journal()
        let marked = RunningJob.load(layout)
        for running in marked { journal.adopt(running) }
        let interrupted = journal.markInterrupted()
        var initial = SessionState(journal: journal)
        initial.markedJobs = marked.map { ($0.kind, $0.key) }
        do {
            initial.toolchain = try pipeline.toolchain()
        } catch {
            // The status report then says `unknown`; builds report their own rustc failures.
            logger.warning("cannot ask rustc for its version: \(error)")
        }
        state = Mutex(initial)
        jobs.start { [weak self] in self?.runNextJob() ?? false }
        // The failures just recorded, and the adopted jobs, are journaled (and their markers
        // dropped) without waiting for a change.
        if interrupted || !marked.isEmpty {
            journalExecutor.async { [self] in writeJournal() }
        }
    }

    deinit {
        // A session dropped without `shutdown` still ends its job thread (it finds no session).
        jobs.wake()
    }

    /// Calls `observer` with every later event, in the order the changes happened, on the
    /// session's event executor. Observers must be quick; they may call the session.
    func observe(_ observer: @escaping @Sendable (SessionEvent) -> Void) {
        change { $0.observers.append(observer) }
    }

    /// Follow source changes (the file watcher).
    public func onSourcesChanged(_ body: @escaping @Sendable () -> Void) {
        change { $0.sourcesChanged = body }
    }

    /// Stops the queue (cancelling or finishing the running job), waits for the links under way,
    /// lets observers release what waits on the session (`SessionEvent.stopping`) and writes the
    /// journal. Not from an observer: it waits for the observers to hear `stopping`.
    public func shutdown(cancelRunning: Bool = true) {
        let running = change { state -> JobQueue.Job? in
            let (dropped, running) = state.queue.close()
            for job in dropped { state.finishJob(job, .cancelled, error: nil, at: clock.now()) }
            return running
        }
        jobs.wake()
        if cancelRunning { running?.cancellation.cancel() }
        jobs.waitUntilEnded()
        linkExecutor.sync {}
        change { $0.emit(.stopping) }
        eventExecutor.sync {}
        journalExecutor.sync { writeJournal(last: true) }
    }

    // MARK: the one way state changes

    /// Makes one change to the session's state under its lock. The change's events go to the
    /// observers, and a journal write is scheduled, while the lock is still held: events reach
    /// observers in exactly the order the changes were made.
    @discardableResult
    func change<Result: Sendable, Failure: Error>(
        _ body: (inout SessionState) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try state.withLock { (state: inout SessionState) throws(Failure) -> Result in
            defer { dispatchEffects(of: &state) }
            return try body(&state)
        }
    }

    /// Reads the state under its lock (a consistent snapshot).
    func read<Result: Sendable>(_ body: (SessionState) -> Result) -> Result {
        state.withLock { body($0) }
    }

    private func dispatchEffects(of state: inout SessionState) {
        let effects = state.takeEffects()
        if !effects.events.isEmpty {
            let observers = state.observers
            eventExecutor.async {
                for event in effects.events {
                    for observer in observers { observer(event) }
                }
            }
        }
        if effects.urgent, !state.journalClosed {
            // A job ended: written now (a write already scheduled still runs, and finds less).
            journalExecutor.async { [self] in writeJournal() }
        } else if effects.journal, !state.journalWriteScheduled, !state.journalClosed {
            // One write, 50 ms after the first change, carries every change made until it starts.
            state.journalWriteScheduled = true
            journalExecutor.asyncAfter(deadline: .now() + .milliseconds(50)) { [self] in writeJournal() }
        }
    }
}
