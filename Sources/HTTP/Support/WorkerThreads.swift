import Foundation
import Synchronization

/// A few threads of our own that run request work too slow for libmicrohttpd's one thread
/// (`Response.offThread`): a diff of two binaries, a symbol table parsed for the first time, a link.
///
/// Not GCD and not the cooperative pool: that work blocks for seconds (a linker, a 70 MB file),
/// and blocking either of those starves everything else scheduled on them (the reason
/// `Scheduler` has its own thread too). A fixed pool bounds how many such jobs run at once; later
/// ones wait their turn in order.
public final class WorkerThreads: Sendable {
    /// The pool request handlers share. Four threads: enough that a slow diff does not hold up a
    /// link or a symbol search, few enough that a burst of them cannot swamp the machine.
    public static let shared = WorkerThreads(count: 4, name: "whisker-work")

    private let condition = NSCondition()
    private let queue = Mutex<[@Sendable () -> Void]>([])
    /// The pool's threads, to tell them from others (`Thread.name` on Linux reports the kernel's
    /// name, which a thread inherits from its creator: libmicrohttpd's, here).
    private let threads = Mutex<Set<ObjectIdentifier>>([])

    /// Starts `count` threads named `name-<n>`; they live as long as the process.
    init(count: Int, name: String) {
        for index in 0..<max(1, count) {
            let thread = Thread { [self] in runLoop() }
            thread.name = "\(name)-\(index)"
            threads.withLock { _ = $0.insert(ObjectIdentifier(thread)) }
            thread.start()
        }
    }

    /// Whether the calling thread is one of the pool's (work runs there, not on the server's).
    public var ownsCurrentThread: Bool {
        threads.withLock { $0.contains(ObjectIdentifier(Thread.current)) }
    }

    /// Runs `work` on one of the pool's threads, after the work queued before it has started.
    public func run(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.withLock { $0.append(work) }
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        while true {
            condition.lock()
            var next = queue.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            while next == nil {
                condition.wait()
                next = queue.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            }
            condition.unlock()
            next?()
        }
    }
}
