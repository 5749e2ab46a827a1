import Foundation

/// The one thread a session's jobs run on, one at a time.
///
/// The pipeline is synchronous (it waits on rustc and the linker), so a dedicated thread keeps it
/// off libmicrohttpd's thread, Dispatch's pool and Swift's small cooperative pool. The thread owns
/// no state: each wake-up it asks `step` to run the next job of the session's queue, and ends
/// when `step` says the queue is closed.
final class JobThread: Sendable {
    /// One signal per job queued (and one for the shutdown); a wake-up whose job was cancelled
    /// meanwhile finds nothing and waits again.
    private let wakeUps = DispatchSemaphore(value: 0)
    private let ended = DispatchSemaphore(value: 0)

    /// Starts the thread; `step` runs one job (or finds none) and returns false to end.
    func start(_ step: @escaping @Sendable () -> Bool) {
        let thread = Thread { [wakeUps, ended] in
            while true {
                wakeUps.wait()
                if !step() { break }
            }
            ended.signal()
        }
        thread.name = "whisker-jobs"
        thread.start()
    }

    /// Something was queued, or the queue was closed.
    func wake() {
        wakeUps.signal()
    }

    /// Returns once the thread has ended (at once when it already has).
    func waitUntilEnded() {
        ended.wait()
        // Passed on, so a second shutdown returns too.
        ended.signal()
    }
}
