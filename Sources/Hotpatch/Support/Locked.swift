import Foundation

/// A value guarded by a lock, for state shared between a caller and the threads that read a child
/// process's pipes. `Synchronization.Mutex` would do, but it needs macOS 15 and the package supports 13.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
