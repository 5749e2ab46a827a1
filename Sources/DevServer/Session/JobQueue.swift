import Foundation
import Hotpatch

/// Runs a project's jobs one at a time, first in first out, on its own thread.
///
/// The pipeline is synchronous (it waits on rustc and the linker), so a dedicated thread keeps it
/// off both libmicrohttpd's thread and Swift's small cooperative pool.
final class JobQueue: @unchecked Sendable {
    /// What kind of work a job is; also its key's namespace.
    enum Kind: String, Sendable {
        case build, patch
    }

    /// One unit of work: `run` does it and records its outcome itself.
    struct Job: Sendable {
        let kind: Kind
        let key: String
        let queuedAt: Date
        let cancellation: Cancellation
        let run: @Sendable (Cancellation) -> Void
        /// Called instead of `run` when the job is cancelled before it starts.
        let cancelled: @Sendable () -> Void
    }

    /// A job as status reports it.
    struct Entry: Sendable {
        let kind: Kind
        let key: String
        let queuedAt: Date
        let running: Bool
    }

    private let condition = NSCondition()
    private var pending: [Job] = []
    private var running: Job?
    private var accepting = true
    private var finished = false
    private var thread: Thread?

    init() {
        let thread = Thread { [unowned self] in self.workLoop() }
        thread.name = "whisker-jobs"
        self.thread = thread
        thread.start()
    }

    /// Queues `job`; false once the queue is shutting down.
    @discardableResult
    func enqueue(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else { return false }
        pending.append(job)
        condition.signal()
        return true
    }

    /// Whether a job of `kind` waits to start (the watcher coalesces saves into it).
    func firstQueued(_ kind: Kind) -> String? {
        condition.lock()
        defer { condition.unlock() }
        return pending.first { $0.kind == kind }?.key
    }

    /// Cancels a queued job (it never runs) or asks the running one to stop; false if unknown.
    func cancel(kind: Kind, key: String) -> Bool {
        condition.lock()
        if let index = pending.firstIndex(where: { $0.kind == kind && $0.key == key }) {
            let job = pending.remove(at: index)
            condition.unlock()
            job.cancelled()
            return true
        }
        let job = running
        condition.unlock()
        guard let job, job.kind == kind, job.key == key else { return false }
        job.cancellation.cancel()
        return true
    }

    /// Running job first, then the queue in order.
    var entries: [Entry] {
        condition.lock()
        defer { condition.unlock() }
        let head = running.map { [Entry(kind: $0.kind, key: $0.key, queuedAt: $0.queuedAt, running: true)] } ?? []
        return head + pending.map { Entry(kind: $0.kind, key: $0.key, queuedAt: $0.queuedAt, running: false) }
    }

    /// Stops accepting, cancels what is queued, asks the running job to stop (`cancelRunning`) or
    /// lets it finish, and returns when the worker has ended.
    func shutdown(cancelRunning: Bool) {
        condition.lock()
        accepting = false
        let dropped = pending
        pending.removeAll()
        if cancelRunning { running?.cancellation.cancel() }
        condition.broadcast()
        condition.unlock()
        for job in dropped { job.cancelled() }
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func workLoop() {
        while true {
            condition.lock()
            while pending.isEmpty && accepting { condition.wait() }
            if pending.isEmpty && !accepting {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = pending.removeFirst()
            running = job
            condition.unlock()

            if job.cancellation.isCancelled { job.cancelled() } else { job.run(job.cancellation) }

            condition.lock()
            running = nil
            condition.unlock()
        }
    }
}
