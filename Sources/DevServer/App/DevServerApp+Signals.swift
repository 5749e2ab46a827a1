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
    ///
    /// `trigger` ends the wait the same way from inside the process (the terminal UI's `q` fires
    /// SIGINT through it): whatever follows the wait cannot tell the two apart. Firing it before
    /// the wait has started counts too.
    public func waitForTerminationSignal(
        _ signals: [Int32] = [SIGINT, SIGTERM], trigger: TerminationTrigger? = nil
    ) async -> Int32 {
        let once = FirstSignal()
        var sources: [any DispatchSourceSignal] = []
        let received = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            trigger?.onFire { number in
                if once.fire() { continuation.resume(returning: number) }
            }
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

/// A way to end ``DevServerApp/waitForTerminationSignal(_:trigger:)`` as if a signal had
/// arrived, for a request to quit that comes from inside the process.
public final class TerminationTrigger: Sendable {
    private let state = Mutex<(fired: Int32?, handler: (@Sendable (Int32) -> Void)?)>((nil, nil))

    public init() {}

    /// Ends the wait with `signal` — now, or as soon as the wait starts.
    public func fire(_ signal: Int32) {
        let handler = state.withLock { state -> (@Sendable (Int32) -> Void)? in
            if state.fired == nil { state.fired = signal }
            return state.handler
        }
        handler?(signal)
    }

    /// Calls `handler` with the first fired signal: at once if one was fired already.
    func onFire(_ handler: @escaping @Sendable (Int32) -> Void) {
        let fired = state.withLock { state -> Int32? in
            state.handler = handler
            return state.fired
        }
        if let fired { handler(fired) }
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
