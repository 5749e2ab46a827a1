import Foundation
import Hotpatch

/// Fat builds: queueing, cancelling, the build job and the warm-up that follows it.
extension ProjectSession {
    /// What a starting server does about the project's sources (``startup()``).
    public enum Startup: Sendable, Equatable {
        /// The kept build is current: nothing to do.
        case keptBuild(BuildID)
        /// The sources changed since the kept build or its last patch — saved while no server
        /// ran, or the edit of a patch a killed server never finished: patch `id` was queued,
        /// and the devices of the kept build catch up with it.
        case patch(id: Int, build: BuildID)
        /// No build can be patched (none yet, made by an older whisker-dev, its binary gone, or
        /// the patch could not be queued): fat build `id` was queued.
        case build(BuildID)
    }

    /// Queues what the sources need at startup: nothing, a patch of the kept build, or a fat build.
    public func startup() throws(SessionError) -> Startup {
        if let build = currentBuild?.build, pipeline.isPatchable(build) {
            if pipeline.isUpToDate(build) { return .keptBuild(build.id) }
            do {
                return .patch(id: try enqueuePatch(trigger: .startup), build: build.id)
            } catch {
                logger.warning("cannot patch kept build \(build.id.rawValue) at startup (\(error.message)): building instead")
            }
        }
        return .build(try enqueueBuild(trigger: .startup))
    }

    /// Queues a fat build with the server's settings, which `request` may only confirm.
    @discardableResult
    public func enqueueBuild(_ request: BuildRequest = BuildRequest(), trigger: JobTrigger) throws(SessionError) -> BuildID {
        try confirmSettings(request)
        // A queued build that has not started is the build asked for (same sources, same
        // settings): join it rather than queue a second, as a save joins a queued patch.
        if let queued = read({ $0.queue.pending.first { $0.kind == .build }?.key }), let id = BuildID(queued) {
            return id
        }
        let now = clock.now()
        let record = BuildRecord(id: BuildID.make(date: now), state: .queued, trigger: trigger, createdAt: now)
        try enqueue(record)
        return record.id
    }

    /// 409 `build_settings_mismatch` when the request names another profile, package, binary,
    /// target or features than the server builds. Refused rather than silently ignored: the caller
    /// would get a build it did not ask for.
    private func confirmSettings(_ request: BuildRequest) throws(SessionError) {
        let host = read { $0.toolchain?.host }
        let checks: [(field: String, asked: String?, builds: String?, flag: String)] = [
            ("profile", request.profile, configuration.profile, configuration.release ? "without --release" : "with --release"),
            ("package", request.package, configuration.package, "with --package"),
            ("bin", request.bin, configuration.bin, "with --bin"),
            ("target", request.target, configuration.target ?? host, "with --target"),
        ]
        for check in checks {
            guard let asked = check.asked, asked != check.builds else { continue }
            let builds = check.builds.map { "'\($0)'" } ?? "cargo's default"
            throw .conflict(
                "build_settings_mismatch", "this server builds \(check.field) \(builds), not '\(asked)'",
                hint: "restart whisker-dev serve \(check.flag) to build that")
        }
        if let features = request.features, !features.isEmpty {
            throw .conflict(
                "build_settings_mismatch", "this server builds the default features only, not --features \(features.joined(separator: ","))",
                hint: "leave features out (or send []): the fat build passes no --features")
        }
    }

    /// Cancels a queued or running build.
    public func cancelBuild(_ id: String) throws(SessionError) {
        try cancel(BuildRecord.self, id)
    }

    /// The build's cargo output, or (when no log was written) its failure.
    func buildLog(_ id: String) throws(SessionError) -> String {
        let record = try build(id)
        guard let buildID = BuildID(id) else { throw .notFound("build", id: id) }
        // No log file is a normal answer (the build failed before cargo ran): its failure says why.
        guard let text = try? String(contentsOf: layout.build(buildID).log, encoding: .utf8) else {
            return record.error.map { "\($0.message)\n\($0.diagnostics ?? "")" } ?? ""
        }
        return text
    }

    /// The build job, on the job thread.
    func runBuild(_ key: String, cancellation: Cancellation) {
        guard let id = BuildID(key) else { return }
        let started = clock.instant()
        change { state in
            let now = clock.now()
            guard let record = state.update(BuildRecord.self, key, { $0.state = .running; $0.startedAt = now }) else { return }
            state.emit(.build(.started, record))
        }
        logger.info("build \(key) started")
        do {
            try markStarted(.build, key)
            let build = try pipeline.fatBuild(id: id, cancellation: cancellation) { [self] timing in
                change { state in
                    state.update(BuildRecord.self, key) { $0.phases.append(timing) }
                    state.emit(.buildProgress(id: id, phase: timing, elapsed: clock.instant() - started))
                }
            }
            let size = pipeline.binarySize(of: build)
            let digest = build.keptBinaryDigest()
            change { state in
                state.update(BuildRecord.self, key) {
                    $0.build = build; $0.phases = build.phases; $0.binarySize = size; $0.binarySha256 = digest
                    $0.warmUp = WarmUpRecord(state: .queued)
                }
                state.unsyncedFiles += [build.binary, layout.build(id).buildRecord.path]
                // The binary is ready to start now: the warm-up below is for patches, not for running it.
                state.finish(BuildRecord.self, key, .succeeded, error: nil, at: clock.now())
            }
            logger.info("build \(key) succeeded in \(Int(build.durationMs)) ms: \(build.symbols ?? 0) symbols; the binary can start while the warm-up runs")
            warmUp(key, id: id, build: build, cancellation: cancellation)
            notifySourcesChanged()
        } catch {
            let state: JobState = cancellation.isCancelled ? .cancelled : .failed
            let failure = JobFailure(error)
            change { $0.finish(BuildRecord.self, key, state, error: failure, at: clock.now()) }
            logger.error("build \(key) \(state.rawValue): \(failure.logLine)")
        }
    }

    /// Compiles the workspace crates the patch way (``WarmUpRecord``), still on the build's job
    /// thread so that a patch queued meanwhile runs after it; failures cost the first patch its
    /// baseline, never the build.
    private func warmUp(_ key: String, id: BuildID, build: FatBuild, cancellation: Cancellation) {
        let start = clock.instant()
        let running = WarmUpRecord(state: .running)
        change { state in
            state.update(BuildRecord.self, key) { $0.warmUp = running }
            state.emit(.buildWarmUp(id: id, running))
        }
        var record = WarmUpRecord(state: .succeeded)
        do {
            if try !pipeline.warmUp(build, cancellation: cancellation) {
                record.message = "a source changed while the warm-up compiled it: the first patch links whole codegen units"
            }
        } catch {
            record.state = cancellation.isCancelled ? .cancelled : .failed
            record.message = JobFailure(error).message
        }
        record.durationMs = (clock.instant() - start).milliseconds
        let finished = record
        change { state in
            state.update(BuildRecord.self, key) { $0.warmUp = finished }
            state.journalDidChange()
            state.emit(.buildWarmUp(id: id, finished))
        }
        if let message = record.message {
            logger.warning("build \(key) warm-up \(record.state.rawValue) in \(Int(record.durationMs ?? 0)) ms: \(message)")
        } else {
            logger.info("build \(key) warm-up succeeded in \(Int(record.durationMs ?? 0)) ms: patches compile incrementally")
        }
    }
}
