import Foundation
import Hotpatch

#if canImport(Glibc)
import Glibc
#endif

/// Watches source files and reports real edits, debounced: one `onChange` per burst of saves.
///
/// On Linux it uses inotify on the files' *directories* (editors save by writing a temp file and
/// renaming it over the original, which a watch on the file itself would lose); elsewhere, or with
/// `WHISKER_WATCH=poll`, it polls sizes and modification times. A file is reported only when its
/// content changed since the last report, so `touch` or a save of identical bytes patches nothing.
/// A new `.rs` file in a watched directory (a new module) counts as a change too.
public final class SourceWatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var files: Set<String> = []
    private var fingerprints: [String: FileFingerprint] = [:]
    private var pendingChanges: Set<String> = []
    /// Polling mode: the size and mtime last seen per file, so one edit is one event.
    private var polledMetadata: [String: FileMetadata] = [:]
    private var lastEventAt: ContinuousClock.Instant?
    private var stopped = false
    private var thread: Thread?
    private let debounce: Duration
    private let onChange: @Sendable (Set<String>) -> Void
    private let usesInotify: Bool
    #if os(Linux)
    private var inotifyDescriptor: Int32 = -1
    private var watchedDirectories: [Int32: String] = [:]
    #endif

    public init(
        paths: [String], debounce: Duration = .milliseconds(100),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        onChange: @escaping @Sendable (Set<String>) -> Void
    ) {
        self.debounce = debounce
        self.onChange = onChange
        #if os(Linux)
        let descriptor = environment["WHISKER_WATCH"] == "poll" ? -1 : inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        inotifyDescriptor = descriptor
        usesInotify = descriptor >= 0
        #else
        usesInotify = false
        #endif
        updateFiles(paths)
        let thread = Thread { [weak self] in self?.run() }
        thread.name = "whisker-watcher"
        self.thread = thread
        thread.start()
    }

    deinit { stop() }

    /// Whether inotify (not polling) is in use.
    public var isUsingInotify: Bool { usesInotify }

    /// Replaces the watched set (a patch may have added a module file).
    public func updateFiles(_ paths: [String]) {
        let normalized = Set(paths.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        lock.lock()
        defer { lock.unlock() }
        for path in normalized where fingerprints[path] == nil {
            fingerprints[path] = FileFingerprint(path: path)
        }
        files = normalized
        #if os(Linux)
        guard usesInotify else { return }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB | IN_MODIFY)
        let known = Set(watchedDirectories.values)
        for directory in Set(normalized.map { ($0 as NSString).deletingLastPathComponent }) where !known.contains(directory) {
            let descriptor = inotify_add_watch(inotifyDescriptor, directory, mask)
            if descriptor >= 0 { watchedDirectories[descriptor] = directory }
        }
        #endif
    }

    /// Stops watching; idempotent, returns once the watcher thread has ended.
    public func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        let thread = self.thread
        self.thread = nil
        lock.unlock()
        guard !wasStopped else { return }
        if let thread, thread != Thread.current {
            while !thread.isFinished { usleep(2_000) }
        }
        #if os(Linux)
        if inotifyDescriptor >= 0 { close(inotifyDescriptor) }
        #endif
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func run() {
        let pollInterval: Int32 = usesInotify ? 50 : 250
        while !isStopped {
            if usesInotify { readInotifyEvents(timeoutMilliseconds: pollInterval) } else {
                usleep(useconds_t(pollInterval) * 1000)
                scanForChanges()
            }
            flushIfQuiet()
        }
    }

    #if os(Linux)
    private func readInotifyEvents(timeoutMilliseconds: Int32) {
        var descriptor = pollfd(fd: inotifyDescriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, timeoutMilliseconds) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = buffer.withUnsafeMutableBytes { read(inotifyDescriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return }
        var touched: Set<String> = []
        var overflow = false
        buffer.withUnsafeBytes { raw in
            var offset = 0
            let headerSize = MemoryLayout<inotify_event>.size
            while offset + headerSize <= count {
                let watch = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let nameLength = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                let nameStart = offset + headerSize
                guard nameStart + nameLength <= count else { break }
                if mask & UInt32(IN_Q_OVERFLOW) != 0 { overflow = true }
                let nameBytes = raw[nameStart..<(nameStart + nameLength)].prefix { $0 != 0 }
                let name = String(decoding: nameBytes, as: UTF8.self)
                lock.lock()
                let directory = watchedDirectories[watch]
                lock.unlock()
                if let directory, !name.isEmpty { touched.insert(directory + "/" + name) }
                offset = nameStart + nameLength
            }
        }
        lock.lock()
        let watched = files
        lock.unlock()
        // Only tracked files, plus new Rust sources beside them (a module an edit just added).
        let relevant = overflow ? watched : touched.filter { watched.contains($0) || $0.hasSuffix(".rs") }
        guard !relevant.isEmpty else { return }
        lock.lock()
        pendingChanges.formUnion(relevant)
        lastEventAt = .now
        lock.unlock()
    }
    #else
    private func readInotifyEvents(timeoutMilliseconds: Int32) {}
    #endif

    private func scanForChanges() {
        lock.lock()
        defer { lock.unlock() }
        var changed: [String] = []
        for path in files {
            let now = FileMetadata(path: path)
            let before = polledMetadata[path] ?? fingerprints[path].map(FileMetadata.init(fingerprint:))
            if now != before { changed.append(path) }
            polledMetadata[path] = now
        }
        guard !changed.isEmpty else { return }
        pendingChanges.formUnion(changed)
        lastEventAt = .now
    }

    /// Reports the pending paths whose content really changed once no event came for `debounce`.
    private func flushIfQuiet() {
        lock.lock()
        guard let last = lastEventAt, ContinuousClock.now - last >= debounce, !pendingChanges.isEmpty else {
            lock.unlock()
            return
        }
        let candidates = pendingChanges
        pendingChanges.removeAll()
        lastEventAt = nil
        var changed: Set<String> = []
        for path in candidates {
            let now = FileFingerprint(path: path)
            if let old = fingerprints[path] {
                if now.contentDiffers(from: old) { changed.insert(path) }
            } else if now.exists {
                changed.insert(path)  // a new source file beside the tracked ones
            }
            fingerprints[path] = now
        }
        let stopped = self.stopped
        lock.unlock()
        if !changed.isEmpty && !stopped { onChange(changed) }
    }
}

/// Whether a file exists, its size and modification time: what polling compares.
struct FileMetadata: Equatable, Sendable {
    let exists: Bool
    let size: Int64
    let modifiedNanoseconds: Int64

    init(path: String) {
        var info = stat()
        if stat(path, &info) == 0 {
            exists = true
            size = Int64(info.st_size)
            modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        } else {
            exists = false
            size = -1
            modifiedNanoseconds = 0
        }
    }

    init(fingerprint: FileFingerprint) {
        exists = fingerprint.exists
        size = fingerprint.size
        modifiedNanoseconds = fingerprint.modifiedNanoseconds
    }
}

/// Size, modification time and a content hash of one file.
struct FileFingerprint: Sendable {
    let exists: Bool
    let size: Int64
    let modifiedNanoseconds: Int64
    let path: String
    private let hash: String?

    init(path: String) {
        self.path = path
        let metadata = FileMetadata(path: path)
        exists = metadata.exists
        size = metadata.size
        modifiedNanoseconds = metadata.modifiedNanoseconds
        hash = metadata.exists ? SourceFingerprint.sha256(ofFile: path) : nil
    }

    func contentDiffers(from other: FileFingerprint) -> Bool {
        exists != other.exists || size != other.size || hash != other.hash
    }
}
