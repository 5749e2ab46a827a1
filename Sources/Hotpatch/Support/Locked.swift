import Synchronization

/// A `Mutex` that closures can share: state a caller shares with the threads that read a child
/// process's pipes, with a progress callback, or across patches (caches). `Mutex` itself is
/// non-copyable, so an escaping closure cannot capture it; this class holds one and is `Sendable`
/// because the mutex is.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try mutex.withLock { try body(&$0) }
    }
}
