import Foundation

/// A value that is only ever touched while holding its own lock.
///
/// `NSLock` rather than `Synchronization.Mutex` so the package keeps building for its declared
/// macOS 13 floor; the lock is never held across a call that can block on the network.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
