import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads single keys from a terminal in cbreak mode on a thread of its own and hands each to a
/// handler. Stoppable: the thread polls with a short timeout instead of blocking in read(2),
/// so ``stop()`` returns promptly and no thread is left reading the terminal after `serve`.
final class KeyReader: Sendable {
    private let fileDescriptor: Int32
    private let stopping = Atomic(false)
    private let finished = DispatchSemaphore(value: 0)
    private let started = Atomic(false)

    init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    /// Starts the thread; `handler` gets each key, on that thread. Escape sequences (arrow and
    /// function keys) are swallowed whole: their final letter must not count as a key (`ESC O R`
    /// is F3, not `R`).
    func start(_ handler: @escaping @Sendable (Character) -> Void) {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in
            defer { finished.signal() }
            while !stopping.load(ordering: .acquiring) {
                guard let byte = readByte(timeoutMs: 100) else { continue }
                if byte < 0 { return }  // end of input or a read error: the terminal is gone
                if byte == 0x1B {
                    // The rest of a sequence arrives together; a lone Escape key times out.
                    while let next = readByte(timeoutMs: 15), next >= 0 {}
                    continue
                }
                guard let scalar = Unicode.Scalar(UInt32(byte)), scalar.isASCII else { continue }
                handler(Character(scalar))
            }
        }
        thread.name = "whisker.serve-keys"
        thread.start()
    }

    /// Stops the thread and waits (at most about one poll interval) for it to end.
    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing), started.load(ordering: .acquiring) else { return }
        _ = finished.wait(timeout: .now() + 1)
    }

    /// One byte; nil when none arrived within the timeout; -1 at end of input or on an error.
    private func readByte(timeoutMs: Int32) -> Int? {
        var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeoutMs)
        if ready == 0 || (ready < 0 && errno == EINTR) { return nil }
        if ready < 0 || descriptor.revents & Int16(POLLNVAL) != 0 { return -1 }
        var byte: UInt8 = 0
        let count = read(fileDescriptor, &byte, 1)
        if count == 1 { return Int(byte) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return nil }
        return -1
    }
}
