import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DevServerApp {
    /// Waits until the process receives one of `signals` (default SIGINT, SIGTERM) and returns it.
    /// The signals' default action (terminate) is disabled so `shutdown()` can run.
    public func waitForTerminationSignal(_ signals: [Int32] = [SIGINT, SIGTERM]) async -> Int32 {
        let once = FirstSignal()
        var sources: [any DispatchSourceSignal] = []
        let received = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            for number in signals {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    if once.fire() { continuation.resume(returning: number) }
                }
                source.resume()
                sources.append(source)
            }
        }
        for source in sources { source.cancel() }
        return received
    }
}

/// Whether one of the signals a `waitForTerminationSignal` listens on has fired: the
/// continuation is resumed by the first only.
private final class FirstSignal: Sendable {
    private let fired = Mutex(false)

    /// True for the first call only.
    func fire() -> Bool {
        fired.withLock { fired in
            defer { fired = true }
            return !fired
        }
    }
}
