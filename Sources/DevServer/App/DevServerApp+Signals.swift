import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DevServerApp {
    /// Waits until the process receives one of `signals` (default SIGINT, SIGTERM) and returns it.
    /// The signals' default action (terminate) is disabled so `shutdown()` can run.
    public func waitForTerminationSignal(_ signals: [Int32] = [SIGINT, SIGTERM]) async -> Int32 {
        let sources = Locked<[any DispatchSourceSignal]>([])
        let received = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let once = Locked(false)
            for number in signals {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    let first = once.withLock { fired in
                        defer { fired = true }
                        return !fired
                    }
                    if first { continuation.resume(returning: number) }
                }
                source.resume()
                sources.withLock { $0.append(source) }
            }
        }
        sources.withLock { sources in
            for source in sources { source.cancel() }
        }
        return received
    }
}
