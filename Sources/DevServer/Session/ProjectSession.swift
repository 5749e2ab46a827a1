import Foundation
import Hotpatch
import Logging

/// Everything the server knows about its one project: builds, patches, devices and the job queue
/// that runs the pipeline. Every change is journaled in the project's cache directory and
/// reported to the session's observers as a `SessionEvent`.
///
/// The session knows nothing of HTTP: it takes typed inputs (`BuildRequest`,
/// `DeviceRegistration`, …), answers with records and throws `SessionError`. The routes turn
/// requests into those inputs and the answers into JSON and statuses.
public final class ProjectSession: Sendable {
    public let configuration: SessionConfiguration
    public let layout: ProjectLayout
    let patcher: Patcher
    let cache: HotpatchModuleCache
    let queue = JobQueue()
    let logger: Logger
    let journal: Locked<Journal>
    /// The id of the newest event the observers published, journaled so that a restarted server
    /// continues the ids (browsers' `Last-Event-ID` stays meaningful).
    let lastEventID: @Sendable () -> UInt64
    private let observers = Locked<[@Sendable (SessionEvent) -> Void]>([])
    /// Serialises links: a patch job and a late device may link the same patch.
    let linkLock = NSLock()
    /// Runs links for devices that joined after a patch, off the caller's thread.
    let linkQueue = DispatchQueue(label: "whisker.device-links")
    /// Journal writes, coalesced off the calling thread: an ack from each of 16 devices must not
    /// encode the whole journal 16 times on the HTTP thread.
    let journalQueue = DispatchQueue(label: "whisker.journal")
    let journalWritePending = Locked(false)
    let toolchain: Locked<RustcVersion?> = Locked(nil)
    /// File address of `main` per build id (see ``anchorAddress(of:)``).
    let anchors = Locked<[String: UInt64]>([:])
    /// Called after a build succeeds or a patch changes the tracked sources (the watcher follows).
    let sourcesChanged: Locked<(@Sendable () -> Void)?> = Locked(nil)

    /// Loads the journal of an earlier run, if any; its unfinished jobs are `cancelled` and its
    /// devices `lost` until they poll again. Throws what reading the journal throws.
    init(
        configuration: SessionConfiguration, logger: Logger = Logger(label: "whisker.serve"),
        lastEventID: @escaping @Sendable () -> UInt64
    ) throws {
        self.configuration = configuration
        self.layout = ProjectLayout(project: configuration.project, cacheDirectory: configuration.cacheDirectory)
        self.logger = logger
        self.lastEventID = lastEventID
        self.cache = HotpatchModuleCache(directory: configuration.cacheDirectory.path)
        var patcher = Patcher(layout: layout, cache: cache, logger: logger)
        patcher.entryPatching = configuration.entryPatching
        self.patcher = patcher
        var loaded = Journal()
        let journalFile = Journal.file(in: layout)
        if FileManager.default.fileExists(atPath: journalFile.path) {
            loaded = try JSONFile.read(Journal.self, from: journalFile)
            loaded.markInterrupted()
        }
        journal = Locked(loaded)
        toolchain.withLock { $0 = try? Toolchain.rustcVersion(environment: configuration.environment, directory: configuration.project) }
    }

    /// Calls `observer` with every later event, on the thread the event happens on, after the
    /// observers added before it. Observers must be quick and must not wait for the session.
    func observe(_ observer: @escaping @Sendable (SessionEvent) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// Reports `event` to every observer.
    func emit(_ event: SessionEvent) {
        for observer in observers.withLock({ $0 }) { observer(event) }
    }

    /// Follow source changes (the file watcher).
    public func onSourcesChanged(_ body: @escaping @Sendable () -> Void) {
        sourcesChanged.withLock { $0 = body }
    }

    /// Stops the queue (cancelling or finishing the running job), lets observers release what
    /// waits on the session (`SessionEvent.stopping`) and flushes the journal.
    public func shutdown(cancelRunning: Bool = true) {
        queue.shutdown(cancelRunning: cancelRunning)
        linkQueue.sync {}
        emit(.stopping)
        journalQueue.sync {}
        journalQueue.sync { writeJournal() }
    }
}
