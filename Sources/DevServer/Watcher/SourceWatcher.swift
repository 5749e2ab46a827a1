import Foundation
import Hotpatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Watches source files and reports real edits: one report per save, or per burst of saves.
///
/// On Linux it uses inotify on the files' *directories* (editors save by writing a temp file and
/// renaming it over the original, which a watch on the file itself would lose); elsewhere, or with
/// `WHISKER_WATCH=poll`, it polls sizes and modification times every 250 ms. A file is reported
/// only when its content changed since the last report, so `touch` or a save of identical bytes
/// patches nothing. A new `.rs` file in a watched directory (a new module) counts as a change too.
///
/// With inotify a save is reported as soon as it is *complete* — the file closed after writing
/// (`IN_CLOSE_WRITE`), renamed into place (`IN_MOVED_TO`) or deleted — plus `debounce` (5 ms by
/// default) so the events of one editor save (write temp, rename, chmod) and of saves in a burst
/// land in one report. Only a write that is never seen to complete (a file kept open) waits for
/// `incompleteWriteQuiet` (100 ms) of silence: reading it earlier could see half of it.
public final class SourceWatcher: Sendable {
    /// Everything that changes, behind one lock: the watcher's thread and the callers of
    /// `updateFiles`/`stop` share it.
    private struct State {
        var files: Set<String> = []
        var fingerprints: [String: FileFingerprint] = [:]
        var pendingChanges: Set<String> = []
        /// Pending files whose last event said the write was complete (inotify).
        var pendingCompleted: Set<String> = []
        /// Polling mode: the size and mtime last seen per file, so one edit is one event.
        var polledMetadata: [String: FileMetadata] = [:]
        /// When the next flush is due (after a complete write: now + debounce; else the quiet period).
        var flushDeadline: ContinuousClock.Instant?
        /// Wall clock of the first event of the pending burst: the report's `firstEventAt`.
        var burstStartedAt: Date?
        var stopped = false
        /// The watcher's thread, so `stop()` called from a report does not wait for itself.
        var thread: ObjectIdentifier?
        /// inotify watch descriptor → the directory it watches.
        var watchedDirectories: [Int32: String] = [:]
    }

    private let state = Mutex(State())
    /// Signalled when the watcher's thread has ended.
    private let ended = DispatchSemaphore(value: 0)
    private let debounce: Duration
    private let incompleteWriteQuiet: Duration
    private let onReport: @Sendable (Report) -> Void
    private let usesInotify: Bool
    #if os(Linux)
    private let inotifyDescriptor: Int32
    #endif

    /// One report: the files whose content changed, and when the first write of them was seen.
    public struct Report: Sendable {
        public var paths: Set<String>
        /// The first event of the burst (inotify) or the scan that saw it (polling): "save observed".
        public var firstEventAt: Date
    }

    /// Watches `paths`; `onReport` runs on the watcher's thread.
    /// `debounce`: how long after a complete write more events may join the report.
    public init(
        paths: [String], debounce: Duration = .milliseconds(5), incompleteWriteQuiet: Duration = .milliseconds(100),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        onReport: @escaping @Sendable (Report) -> Void
    ) {
        self.debounce = debounce
        self.incompleteWriteQuiet = max(incompleteWriteQuiet, debounce)
        self.onReport = onReport
        #if os(Linux)
        let descriptor = environment["WHISKER_WATCH"] == "poll" ? -1 : inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        inotifyDescriptor = descriptor
        usesInotify = descriptor >= 0
        #else
        usesInotify = false
        #endif
        updateFiles(paths)
        let thread = Thread { [weak self, ended] in
            self?.run()
            ended.signal()
        }
        thread.name = "whisker-watcher"
        let identity = ObjectIdentifier(thread)
        state.withLock { $0.thread = identity }
        thread.start()
    }

    /// Watches `paths`; `onChange` gets the changed files only.
    public convenience init(
        paths: [String], debounce: Duration = .milliseconds(5),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        onChange: @escaping @Sendable (Set<String>) -> Void
    ) {
        self.init(paths: paths, debounce: debounce, environment: environment) { onChange($0.paths) }
    }

    deinit { stop() }

    /// Whether inotify (not polling) is in use.
    public var isUsingInotify: Bool { usesInotify }

    /// Replaces the watched set (a patch may have added a module file).
    public func updateFiles(_ paths: [String]) {
        let normalized = Set(paths.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        state.withLock { state in
            for path in normalized where state.fingerprints[path] == nil {
                state.fingerprints[path] = FileFingerprint(path: path)
            }
            state.files = normalized
            #if os(Linux)
            guard usesInotify else { return }
            let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB | IN_MODIFY)
            let known = Set(state.watchedDirectories.values)
            for directory in Set(normalized.map { ($0 as NSString).deletingLastPathComponent }) where !known.contains(directory) {
                let descriptor = inotify_add_watch(inotifyDescriptor, directory, mask)
                if descriptor >= 0 { state.watchedDirectories[descriptor] = directory }
            }
            #endif
        }
    }

    /// Stops watching; idempotent, returns once the watcher thread has ended.
    public func stop() {
        let (wasStopped, thread) = state.withLock { state -> (Bool, ObjectIdentifier?) in
            defer { state.stopped = true }
            return (state.stopped, state.thread)
        }
        guard !wasStopped else { return }
        if thread != ObjectIdentifier(Thread.current) { ended.wait() }
        #if os(Linux)
        if inotifyDescriptor >= 0 { close(inotifyDescriptor) }
        #endif
    }

    private var isStopped: Bool {
        state.withLock { $0.stopped }
    }

    private func run() {
        while !isStopped {
            if usesInotify {
                // Sleep in poll() until an event or the pending flush is due (at most 50 ms, so
                // `stop()` is prompt): no fixed tick between a save and its report.
                let due = state.withLock { $0.flushDeadline.map { max(Duration.zero, $0 - .now) } } ?? .milliseconds(50)
                readInotifyEvents(timeoutMilliseconds: Int32(min(50, max(0, due.milliseconds.rounded(.up)))))
            } else {
                usleep(250_000)
                scanForChanges()
            }
            flushIfDue()
        }
    }

    #if os(Linux)
    private func readInotifyEvents(timeoutMilliseconds: Int32) {
        var descriptor = pollfd(fd: inotifyDescriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, timeoutMilliseconds) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = buffer.withUnsafeMutableBytes { read(inotifyDescriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return }
        // Per path, in event order: does its latest event leave the file complete?
        var completion: [String: Bool] = [:]
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
                let directory = state.withLock { $0.watchedDirectories[watch] }
                if let directory, !name.isEmpty {
                    let path = directory + "/" + name
                    if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE) != 0 {
                        // The file's final bytes are in place: closed after writing, renamed over, deleted.
                        completion[path] = true
                    } else if mask & UInt32(IN_MODIFY | IN_CREATE) != 0 {
                        completion[path] = false  // a write under way
                    } else if completion[path] == nil {
                        completion[path] = true  // attributes only (touch, chmod): no bytes in flight
                    }
                }
                offset = nameStart + nameLength
            }
        }
        let watched = state.withLock { $0.files }
        // Only tracked files, plus new Rust sources beside them (a module an edit just added).
        let relevant = completion.filter { watched.contains($0.key) || $0.key.hasSuffix(".rs") }
        guard overflow || !relevant.isEmpty else { return }
        state.withLock { state in
            if state.pendingChanges.isEmpty { state.burstStartedAt = Date() }
            if overflow { state.pendingChanges.formUnion(watched) }
            for (path, complete) in relevant {
                state.pendingChanges.insert(path)
                if complete { state.pendingCompleted.insert(path) } else { state.pendingCompleted.remove(path) }
            }
            // Every pending file complete: report after the short debounce; otherwise wait for quiet.
            let allComplete = !overflow && state.pendingChanges.isSubset(of: state.pendingCompleted)
            state.flushDeadline = .now + (allComplete ? debounce : incompleteWriteQuiet)
        }
    }
    #else
    private func readInotifyEvents(timeoutMilliseconds: Int32) {}
    #endif

    private func scanForChanges() {
        state.withLock { state in
            var changed: [String] = []
            for path in state.files {
                let now = FileMetadata(path: path)
                let before = state.polledMetadata[path] ?? state.fingerprints[path].map(FileMetadata.init(fingerprint:))
                if now != before { changed.append(path) }
                state.polledMetadata[path] = now
            }
            guard !changed.isEmpty else { return }
            if state.pendingChanges.isEmpty { state.burstStartedAt = Date() }
            state.pendingChanges.formUnion(changed)
            // A scan sees a file between writes no more than an event does: wait for the next quiet scan.
            state.flushDeadline = .now + max(debounce, .milliseconds(1))
        }
    }

    /// Reports the pending paths whose content really changed once their flush is due.
    private func flushIfDue() {
        let due = state.withLock { state -> Report? in
            guard let deadline = state.flushDeadline, ContinuousClock.now >= deadline, !state.pendingChanges.isEmpty else {
                return nil
            }
            let candidates = state.pendingChanges
            let firstEventAt = state.burstStartedAt ?? Date()
            state.pendingChanges.removeAll()
            state.pendingCompleted.removeAll()
            state.flushDeadline = nil
            state.burstStartedAt = nil
            var changed: Set<String> = []
            for path in candidates {
                let now = FileFingerprint(path: path)
                if let old = state.fingerprints[path] {
                    if now.contentDiffers(from: old) { changed.insert(path) }
                } else if now.exists {
                    changed.insert(path)  // a new source file beside the tracked ones
                }
                state.fingerprints[path] = now
            }
            return changed.isEmpty || state.stopped ? nil : Report(paths: changed, firstEventAt: firstEventAt)
        }
        if let due { onReport(due) }
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
