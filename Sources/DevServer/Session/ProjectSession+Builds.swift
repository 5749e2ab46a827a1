import Foundation
import Hotpatch

extension ProjectSession {
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

    /// Queues a fat build with the server's settings, which `request` may only confirm.
    @discardableResult
    public func enqueueBuild(_ request: BuildRequest = BuildRequest(), trigger: JobTrigger) throws(SessionError) -> BuildID {
        if let profile = request.profile, profile != configuration.profile {
            // Refused rather than silently ignored: the caller would get a build it did not ask for.
            throw SessionError(.invalidInput, "invalid_field", "field 'profile' must be '\(configuration.profile)' for this server")
        }
        let record = BuildRecord(id: BuildID.make(), state: .queued, trigger: trigger, createdAt: Date())
        journal.withLock { $0.builds.append(record) }
        emit(.build(.queued, record))
        let key = record.id.rawValue
        let accepted = queue.enqueue(JobQueue.Job(
            kind: .build, key: key, queuedAt: record.createdAt, cancellation: Cancellation(),
            run: { [self] cancellation in runBuild(key, cancellation: cancellation) },
            cancelled: { [self] in finishBuild(key, state: .cancelled, error: nil) }))
        guard accepted else {
            finishBuild(key, state: .cancelled, error: JobFailure(code: "shutting_down", message: "the server is shutting down"))
            throw .shuttingDown
        }
        saveJournal()
        return record.id
    }

    /// Cancels a queued or running build.
    public func cancelBuild(_ id: String) throws(SessionError) {
        let record = try build(id)
        guard !record.state.isFinished else { throw .jobFinished("build", id: id, state: record.state) }
        _ = queue.cancel(kind: .build, key: id)
    }

    /// The build's cargo output, or (when no log was written) its failure.
    func buildLog(_ id: String) throws(SessionError) -> String {
        let record = try build(id)
        guard let buildID = BuildID(id) else { throw .notFound("build", id: id) }
        guard let text = try? String(contentsOf: layout.build(buildID).log, encoding: .utf8) else {
            return record.error.map { "\($0.message)\n\($0.diagnostics ?? "")" } ?? ""
        }
        return text
    }

    private func runBuild(_ key: String, cancellation: Cancellation) {
        guard let id = BuildID(key) else { return }
        let started = ContinuousClock.now
        updateBuild(key) { $0.state = .running; $0.startedAt = Date() }
        if let record = buildRecord(key) { emit(.build(.started, record)) }
        logger.info("build \(key) started")
        let cache = self.cache
        do {
            let build = try FatBuild.run(
                project: configuration.project, bin: configuration.bin, package: configuration.package,
                release: configuration.release, target: configuration.target, cacheDir: configuration.cacheDirectory,
                environment: configuration.environment,
                symbolCount: { try CachedSymbolTable.make(forBinaryAt: $0.path, architecture: nil, cache: cache).table.count },
                cancellation: cancellation, id: id,
                progress: { [self] event in
                    guard case .phaseFinished(let timing) = event else { return }
                    updateBuild(key) { $0.phases.append(timing) }
                    emit(.buildProgress(id: id, phase: timing, elapsed: ContinuousClock.now - started))
                })
            let size = (try? FileManager.default.attributesOfItem(atPath: build.binary)[.size] as? Int) ?? nil
            updateBuild(key) {
                $0.build = build; $0.phases = build.phases; $0.binarySize = size
                $0.warmUp = WarmUpRecord(state: .queued)
            }
            // The binary is ready to start now: the warm-up below is for patches, not for running it.
            finishBuild(key, state: .succeeded, error: nil)
            logger.info("build \(key) succeeded in \(Int(build.durationMs)) ms: \(build.symbols ?? 0) symbols; the binary can start while the warm-up runs")
            warmUp(key, id: id, build: build, cancellation: cancellation)
            sourcesChanged.withLock { $0 }?()
        } catch {
            let state: JobState = cancellation.isCancelled ? .cancelled : .failed
            finishBuild(key, state: state, error: JobFailure(error))
            logger.error("build \(key) \(state.rawValue): \(JobFailure(error).logLine)")
        }
    }

    /// Compiles the workspace crates the patch way (``WarmUpRecord``), still on the build's job
    /// thread so that a patch queued meanwhile runs after it; failures cost the first patch its
    /// baseline, never the build.
    private func warmUp(_ key: String, id: BuildID, build: FatBuild, cancellation: Cancellation) {
        let clock = ContinuousClock()
        let start = clock.now
        let running = WarmUpRecord(state: .running)
        updateBuild(key) { $0.warmUp = running }
        emit(.buildWarmUp(id: id, running))
        var record = WarmUpRecord(state: .succeeded)
        do {
            if try patcher.prepareDiffBaseline(build: build, cancellation: cancellation) == nil {
                record.message = "a source changed while the warm-up compiled it: the first patch links whole codegen units"
            }
        } catch {
            record.state = cancellation.isCancelled ? .cancelled : .failed
            record.message = JobFailure(error).message
        }
        record.durationMs = (clock.now - start).milliseconds
        let finished = record
        updateBuild(key) { $0.warmUp = finished }
        saveJournal()
        emit(.buildWarmUp(id: id, finished))
        if let message = record.message {
            logger.warning("build \(key) warm-up \(record.state.rawValue) in \(Int(record.durationMs ?? 0)) ms: \(message)")
        } else {
            logger.info("build \(key) warm-up succeeded in \(Int(record.durationMs ?? 0)) ms: patches compile incrementally")
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
        if let record = buildRecord(key) { emit(.build(.finished, record)) }
        saveJournal()
    }
}
