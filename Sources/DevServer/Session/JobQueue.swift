import Foundation
import Hotpatch

/// The session's jobs: the one running and those waiting, first in first out.
///
/// A value inside the session state, so queueing a job, recording it and cancelling it are one
/// change under the session's lock; `JobThread` runs what ``startNext()`` hands out.
struct JobQueue: Sendable {
    /// What kind of work a job is; also its key's namespace.
    enum Kind: String, Sendable {
        case build, patch
    }

    /// One unit of work: the record it runs for (`kind` + `key`) and its cancellation signal.
    struct Job: Sendable {
        let kind: Kind
        let key: String
        let queuedAt: Date
        let cancellation: Cancellation
    }

    /// A job as status reports it.
    struct Entry: Sendable {
        let kind: Kind
        let key: String
        let queuedAt: Date
        let running: Bool
    }

    /// What the job thread should do next.
    enum Next: Sendable {
        case run(Job)
        /// Nothing to run now (a cancel took the job this wake-up was for).
        case idle
        /// Shut down and empty: the thread ends.
        case closed
    }

    private(set) var pending: [Job] = []
    private(set) var running: Job?
    private(set) var accepting = true

    /// Queues `job`; false once the queue is shutting down.
    mutating func enqueue(_ job: Job) -> Bool {
        guard accepting else { return false }
        pending.append(job)
        return true
    }

    /// Whether a job of `kind` is queued or running.
    func contains(_ kind: Kind) -> Bool {
        running?.kind == kind || pending.contains { $0.kind == kind }
    }

    /// Takes a job that has not started out of the queue; nil when it is not waiting.
    mutating func removeQueued(kind: Kind, key: String) -> Job? {
        guard let index = pending.firstIndex(where: { $0.kind == kind && $0.key == key }) else { return nil }
        return pending.remove(at: index)
    }

    /// The running job, if it is that one.
    func running(kind: Kind, key: String) -> Job? {
        guard let running, running.kind == kind, running.key == key else { return nil }
        return running
    }

    /// Moves the first waiting job to running.
    mutating func startNext() -> Next {
        guard !pending.isEmpty else { return accepting ? .idle : .closed }
        let job = pending.removeFirst()
        running = job
        return .run(job)
    }

    /// The running job has ended.
    mutating func finishRunning() {
        running = nil
    }

    /// Stops accepting and empties the queue: the jobs that will never run, and the running one.
    mutating func close() -> (dropped: [Job], running: Job?) {
        accepting = false
        defer { pending.removeAll() }
        return (pending, running)
    }

    /// Running job first, then the queue in order.
    var entries: [Entry] {
        let head = running.map { [Entry(kind: $0.kind, key: $0.key, queuedAt: $0.queuedAt, running: true)] } ?? []
        return head + pending.map { Entry(kind: $0.kind, key: $0.key, queuedAt: $0.queuedAt, running: false) }
    }
}
