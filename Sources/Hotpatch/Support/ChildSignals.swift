import Foundation

/// Starting child processes with no signal blocked.
///
/// A child inherits the signal mask of the thread that spawns it, and Foundation's `Process`
/// does not reset it. Swift concurrency's and Dispatch's worker threads block nearly every signal
/// (`whisker-dev build` runs from an `async` command, the server from its job thread), so cargo,
/// every rustc and every build script started from them ran with SIGUSR1, SIGTERM, SIGINT… blocked.
/// That is not harmless: cargo's and rustc's jobserver helper thread sits in a blocking `read` on the
/// jobserver pipe and is stopped with SIGUSR1; when it can't be interrupted, rustc waits up to a
/// second (100 × 10 ms) at the end of every crate for a thread that never exits. Same CPU time, a
/// long idle tail per crate: on a 130-crate project the fat build took 2.5× cargo's wall time.
/// A blocked SIGTERM also kept ``CommandRunner``'s cancellation from reaching cargo.
public enum ChildSignals {
    /// Runs `body` (which spawns a child) with this thread's signal mask emptied, then restores the
    /// mask. The child gets the empty mask; this thread is unblocked only for that moment — no
    /// worse than the main thread, which blocks nothing.
    public static func withEmptyMask<T>(_ body: () throws -> T) rethrows -> T {
        var empty = sigset_t()
        var previous = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }

    /// Empties the calling thread's signal mask for good: the shims call it right before `exec`,
    /// so the real rustc or linker never inherits a blocked SIGUSR1 from whoever started cargo
    /// (an IDE, a test runner, a `whisker-dev` older than ``withEmptyMask(_:)``).
    public static func unblockAll() {
        var empty = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, nil)
    }
}

extension Process {
    /// `run()`, the child starting with no signal blocked (see ``ChildSignals``).
    public func runUnblockingSignals() throws {
        try ChildSignals.withEmptyMask { try run() }
    }
}
