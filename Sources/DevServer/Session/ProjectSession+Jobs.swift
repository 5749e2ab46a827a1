import Foundation
import Hotpatch

/// Jobs, whatever their kind: queueing one with its record, cancelling it, and the job thread's
/// loop that runs them.
extension ProjectSession {
    /// Appends `record` to the journal, reports it `queued` and queues its job, in one change.
    /// Once the queue is closed the record is finished `cancelled` and `shuttingDown` thrown.
    func enqueue<Record: JobRecord>(_ record: Record) throws(SessionError) {
        let accepted = change { state in
            state.journal[keyPath: Record.records].append(record)
            state.emit(Record.event(.queued, record))
            state.journalDidChange()
            let job = JobQueue.Job(kind: Record.kind, key: record.key, queuedAt: record.createdAt, cancellation: Cancellation())
            guard state.queue.enqueue(job) else {
                let failure = JobFailure(code: "shutting_down", message: "the server is shutting down")
                state.finish(Record.self, record.key, .cancelled, error: failure, at: clock.now())
                return false
            }
            return true
        }
        guard accepted else { throw .shuttingDown }
        jobs.wake()
    }

    /// Cancels a queued job (its record ends `cancelled` at once, and it never runs) or asks the
    /// running one to stop (it ends `cancelled` when the pipeline returns).
    func cancel<Record: JobRecord>(_ type: Record.Type, _ key: String) throws(SessionError) {
        let kind = Record.kind
        let running = try change { (state: inout SessionState) throws(SessionError) -> Cancellation? in
            guard let record = state.journal.record(Record.self, key) else { throw .notFound(kind.rawValue, id: key) }
            guard !record.state.isFinished else { throw .jobFinished(kind.rawValue, id: key, state: record.state) }
            if state.queue.removeQueued(kind: kind, key: key) != nil {
                state.finish(Record.self, key, .cancelled, error: nil, at: clock.now())
                return nil
            }
            return state.queue.running(kind: kind, key: key)?.cancellation
        }
        // Outside the lock: cancelling signals the job's child processes.
        running?.cancel()
    }

    /// The job thread's step: runs the next job, if any; false once the queue is closed and empty.
    func runNextJob() -> Bool {
        switch change({ $0.queue.startNext() }) {
        case .closed:
            return false
        case .idle:
            return true
        case .run(let job):
            if job.cancellation.isCancelled {
                // Cancelled between being taken and starting: it never ran.
                change { $0.finishJob(job, .cancelled, error: nil, at: clock.now()) }
            } else {
                switch job.kind {
                case .build: runBuild(job.key, cancellation: job.cancellation)
                case .patch: runPatch(job.key, cancellation: job.cancellation)
                }
            }
            change { $0.queue.finishRunning() }
            return true
        }
    }

    /// Calls the watcher's follow-up after the tracked sources changed.
    func notifySourcesChanged() {
        read { $0.sourcesChanged }?()
    }
}
