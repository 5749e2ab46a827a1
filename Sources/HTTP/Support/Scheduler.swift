import Foundation
import Synchronization

/// Runs actions at deadlines on one dedicated thread.
///
/// Heartbeats and deferred-response timeouts must fire even when the cooperative thread pool or
/// GCD's worker threads are all busy (a handler blocking, a test sleeping); a thread of our own
/// cannot be starved that way. Actions must be short: they run one after another.
final class Scheduler: Sendable {
    /// A scheduled action; `cancel()` stops it (and, for repeating ones, every later run).
    final class Job: Sendable {
        fileprivate let action: @Sendable () -> Void
        fileprivate let interval: Duration?
        private let cancelled = Mutex(false)

        fileprivate init(action: @escaping @Sendable () -> Void, interval: Duration?) {
            self.action = action
            self.interval = interval
        }

        func cancel() {
            cancelled.withLock { $0 = true }
        }

        var isCancelled: Bool { cancelled.withLock { $0 } }
    }

    private struct Entry {
        var deadline: ContinuousClock.Instant
        let job: Job
    }

    static let shared = Scheduler()

    private let condition = NSCondition()
    private let entries = Mutex<[Entry]>([])

    private init() {
        let thread = Thread { [self] in run() }
        thread.name = "whisker-scheduler"
        thread.start()
    }

    /// Runs `action` once after `delay`.
    @discardableResult
    func after(_ delay: Duration, _ action: @escaping @Sendable () -> Void) -> Job {
        add(Job(action: action, interval: nil), at: .now + delay)
    }

    /// Runs `action` every `interval`, the first time one interval from now.
    @discardableResult
    func every(_ interval: Duration, _ action: @escaping @Sendable () -> Void) -> Job {
        add(Job(action: action, interval: interval), at: .now + interval)
    }

    private func add(_ job: Job, at deadline: ContinuousClock.Instant) -> Job {
        condition.lock()
        entries.withLock { $0.append(Entry(deadline: deadline, job: job)) }
        condition.signal()
        condition.unlock()
        return job
    }

    private func run() {
        while true {
            condition.lock()
            let now = ContinuousClock.now
            let due = entries.withLock { entries -> [Entry] in
                entries.removeAll { $0.job.isCancelled }
                let due = entries.filter { $0.deadline <= now }
                entries.removeAll { $0.deadline <= now }
                return due
            }
            if due.isEmpty {
                let next = entries.withLock { $0.map(\.deadline).min() }
                if let next {
                    let wait = now.duration(to: next)
                    let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
                    _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
                } else {
                    condition.wait()
                }
                condition.unlock()
                continue
            }
            condition.unlock()
            for entry in due where !entry.job.isCancelled {
                entry.job.action()
                if let interval = entry.job.interval {
                    var next = entry.deadline + interval
                    // A late run does not trigger a burst of catch-up runs.
                    if next < .now { next = .now + interval }
                    _ = add(entry.job, at: next)
                }
            }
        }
    }
}
