import Foundation

/// An append-only text log written from several threads (a child's stdout and stderr readers).
final class LogFile: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle?

    init(_ url: URL) {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try? FileHandle(forWritingTo: url)
    }

    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        handle?.write(Data((line + "\n").utf8))
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        try? handle?.close()
    }
}
