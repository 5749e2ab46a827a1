import Foundation
import HTTP
import Hotpatch
import Logging

/// How `whisker-dev serve` builds the project it serves.
public struct SessionConfiguration: Sendable {
    public var project: URL
    public var cacheDirectory: URL
    public var bin: String?
    public var package: String?
    public var release: Bool
    public var target: String?
    /// Jump tables carry `entryPatches` (`whisker-dev serve --entry-patching`).
    public var entryPatching: Bool
    public var environment: [String: String]

    public init(
        project: URL, cacheDirectory: URL, bin: String? = nil, package: String? = nil, release: Bool = false,
        target: String? = nil, entryPatching: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.project = project.standardizedFileURL
        self.cacheDirectory = cacheDirectory
        self.bin = bin
        self.package = package
        self.release = release
        self.target = target
        self.entryPatching = entryPatching
        self.environment = environment
    }
}

/// Everything the server knows about its one project: builds, patches, devices and the job queue
/// that runs the pipeline. Every change is journaled in the project's cache directory and
/// published on the event hub.
public final class ProjectSession: Sendable {
    public let configuration: SessionConfiguration
    public let layout: ProjectLayout
    let events: EventHub
    let patcher: Patcher
    let cache: HotpatchModuleCache
    let queue = JobQueue()
    let logger: Logger
    let journal: Locked<Journal>
    /// Parked device long polls, woken when a patch (or a device's link) is ready.
    let devicePolls = Waiters<String>()
    /// Parked `?wait=true` requests, woken when any job finishes.
    let jobWaiters = Waiters<String>()
    /// Serialises links: a patch job and a late device may link the same patch.
    let linkLock = NSLock()
    /// Runs links for devices that joined after a patch, off the HTTP thread.
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

    var journalFile: URL { layout.root.appendingPathComponent("server-journal.json") }

    public init(configuration: SessionConfiguration, events: EventHub, logger: Logger = Logger(label: "whisker.serve")) throws {
        self.configuration = configuration
        self.layout = ProjectLayout(project: configuration.project, cacheDirectory: configuration.cacheDirectory)
        self.events = events
        self.logger = logger
        self.cache = HotpatchModuleCache(directory: configuration.cacheDirectory.path)
        var patcher = Patcher(layout: layout, cache: cache, logger: logger)
        patcher.entryPatching = configuration.entryPatching
        self.patcher = patcher
        var loaded = Journal()
        let journalFile = layout.root.appendingPathComponent("server-journal.json")
        if FileManager.default.fileExists(atPath: journalFile.path) {
            loaded = try JSONFile.read(Journal.self, from: journalFile)
            // Jobs that were running when the server stopped did not finish.
            for index in loaded.builds.indices where !loaded.builds[index].state.isFinished {
                loaded.builds[index].state = .cancelled
                loaded.builds[index].error = JobFailure(code: "server_stopped", message: "the server stopped before the build finished")
            }
            for index in loaded.patches.indices where !loaded.patches[index].state.isFinished {
                loaded.patches[index].state = .cancelled
                loaded.patches[index].error = JobFailure(code: "server_stopped", message: "the server stopped before the patch finished")
            }
            for index in loaded.devices.indices where loaded.devices[index].state != .lost {
                loaded.devices[index].state = .lost
            }
        }
        journal = Locked(loaded)
        toolchain.withLock { $0 = try? Toolchain.rustcVersion(environment: configuration.environment, directory: configuration.project) }
    }

    /// The event id to continue from after a restart, so browsers' `Last-Event-ID` stays meaningful.
    public var lastJournaledEventID: UInt64 { journal.withLock { $0.lastEventId } }

    /// Follow source changes (the file watcher).
    public func onSourcesChanged(_ body: @escaping @Sendable () -> Void) {
        sourcesChanged.withLock { $0 = body }
    }

    /// Persists the journal (atomically: temp file + rename).
    /// Schedules a journal write: one write, 50 ms after the first change, carries every change
    /// made until it starts. ``shutdown(cancelRunning:)`` writes synchronously.
    func saveJournal() {
        let scheduled = journalWritePending.withLock { pending -> Bool in
            defer { pending = true }
            return !pending
        }
        guard scheduled else { return }
        journalQueue.asyncAfter(deadline: .now() + .milliseconds(50)) { [self] in
            journalWritePending.withLock { $0 = false }
            writeJournal()
        }
    }

    /// Writes the journal now (atomic rename), on the caller's thread.
    func writeJournal() {
        let snapshot = journal.withLock { journal -> Journal in
            journal.lastEventId = events.lastEventID
            return journal
        }
        do {
            try FileManager.default.createDirectory(at: layout.root, withIntermediateDirectories: true)
            try JSONFile.write(snapshot, to: journalFile)
        } catch {
            logger.error("cannot write the journal \(journalFile.path): \(error)")
        }
    }

    /// Stops the queue (cancelling or finishing the running job) and flushes the journal.
    public func shutdown(cancelRunning: Bool = true) {
        queue.shutdown(cancelRunning: cancelRunning)
        linkQueue.sync {}
        devicePolls.resolveAll { Response(error: HTTPError.shuttingDown) }
        jobWaiters.resolveAll { Response(error: HTTPError.shuttingDown) }
        journalQueue.sync {}
        journalQueue.sync { writeJournal() }
    }

    // MARK: builds

    /// The newest build that succeeded: the one new devices and patches use.
    var currentBuild: BuildRecord? {
        journal.withLock { $0.builds.last { $0.state == .succeeded } }
    }

    func buildRecord(_ id: String) -> BuildRecord? {
        journal.withLock { $0.builds.first { $0.id.rawValue == id } }
    }

    /// Whether a kept build of the current sources exists (nothing changed since it or the last
    /// patch), so `serve` can start without building again.
    public func hasUpToDateBuild() -> Bool {
        // A build an older whisker-dev made may lack what patches now rely on (whole rlibs linked).
        guard let current = currentBuild, let build = current.build,
              build.pipelineVersion == FatBuild.currentPipelineVersion,
              FileManager.default.isExecutableFile(atPath: build.binary),
              let state = try? ProjectState.load(layout), !state.sources.isEmpty
        else { return false }
        return ChangeDetection.detect(state.sources).isEmpty
    }

    /// Queues a fat build.
    @discardableResult
    public func enqueueBuild(trigger: JobTrigger) throws -> String {
        let record = BuildRecord(id: BuildID.make(), state: .queued, trigger: trigger, createdAt: Date())
        journal.withLock { $0.builds.append(record) }
        publishBuild("build.queued", record)
        let key = record.id.rawValue
        let accepted = queue.enqueue(JobQueue.Job(
            kind: .build, key: key, queuedAt: record.createdAt, cancellation: Cancellation(),
            run: { [self] cancellation in runBuild(key, cancellation: cancellation) },
            cancelled: { [self] in finishBuild(key, state: .cancelled, error: nil) }))
        guard accepted else {
            finishBuild(key, state: .cancelled, error: JobFailure(code: "shutting_down", message: "the server is shutting down"))
            throw HTTPError.shuttingDown
        }
        saveJournal()
        return key
    }

    private func runBuild(_ key: String, cancellation: Cancellation) {
        guard let id = BuildID(key) else { return }
        let started = ContinuousClock.now
        updateBuild(key) { $0.state = .running; $0.startedAt = Date() }
        if let record = buildRecord(key) { publishBuild("build.started", record) }
        logger.info("build \(key) started")
        let cache = self.cache
        do {
            var build = try runFatBuild(
                project: configuration.project, bin: configuration.bin, package: configuration.package,
                release: configuration.release, target: configuration.target, cacheDir: configuration.cacheDirectory,
                environment: configuration.environment,
                symbolCount: { try cache.symbolTable(forBinaryAt: $0.path, architecture: nil).0.count },
                cancellation: cancellation, id: id,
                progress: { [self] event in
                    guard case .phaseFinished(let timing) = event else { return }
                    updateBuild(key) { $0.phases.append(timing) }
                    _ = events.publish("build.progress", [
                        "id": .string(key), "state": "running", "phase": .string(timing.name),
                        "elapsedMs": .int(Int64((ContinuousClock.now - started).milliseconds)),
                        "phaseMs": .int(Int64(timing.durationMs)),
                    ])
                })
            // The first patch's per-function diff needs the unedited sources compiled like a patch.
            let clock = ContinuousClock()
            let baselineStart = clock.now
            do {
                try patcher.prepareDiffBaseline(build: build, cancellation: cancellation)
            } catch {
                logger.warning("build \(key): no per-function diff baseline: \(JobFailure(error).message)")
            }
            build.phases.append(PhaseTiming(name: "diffBaseline", duration: clock.now - baselineStart))
            let size = (try? FileManager.default.attributesOfItem(atPath: build.binary)[.size] as? Int) ?? nil
            updateBuild(key) { $0.build = build; $0.phases = build.phases; $0.binarySize = size }
            finishBuild(key, state: .succeeded, error: nil)
            logger.info("build \(key) succeeded in \(Int(build.durationMs)) ms: \(build.symbols ?? 0) symbols")
            sourcesChanged.withLock { $0 }?()
        } catch {
            let state: JobState = cancellation.isCancelled ? .cancelled : .failed
            finishBuild(key, state: state, error: JobFailure(error))
            logger.error("build \(key) \(state.rawValue): \(JobFailure(error).logLine)")
        }
    }

    func updateBuild(_ key: String, _ change: (inout BuildRecord) -> Void) {
        journal.withLock { journal in
            if let index = journal.builds.firstIndex(where: { $0.id.rawValue == key }) { change(&journal.builds[index]) }
        }
    }

    private func finishBuild(_ key: String, state: JobState, error: JobFailure?) {
        updateBuild(key) {
            $0.state = state
            $0.finishedAt = Date()
            $0.error = error
        }
        if let record = buildRecord(key) { publishBuild("build.\(state.rawValue)", record) }
        saveJournal()
        jobWaiters.notifyAll()
    }

    /// Cancels a queued or running build.
    public func cancelBuild(_ id: String) throws {
        guard let record = buildRecord(id) else { throw HTTPError.notFound("build", id: id) }
        guard !record.state.isFinished else {
            throw HTTPError.conflict(code: "job_finished", "build \(id) is already \(record.state.rawValue)")
        }
        _ = queue.cancel(kind: .build, key: id)
    }

    func publishBuild(_ name: String, _ record: BuildRecord) {
        var data: JSONObject = ["id": .string(record.id.rawValue), "state": .string(record.state.rawValue)]
        if let error = record.error { data["error"] = Self.failureJSON(error) }
        data["build"] = buildJSON(record)
        _ = events.publish(name, .object(data))
    }
}
