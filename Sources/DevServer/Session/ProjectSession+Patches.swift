import Foundation
import Hotpatch

/// Patches: queueing (saves coalesce), cancelling, and the patch job — compile once, link for the
/// build's devices, commit.
extension ProjectSession {
    /// Queues a patch of the current sources. A save (trigger `watch`) while a patch waits to start
    /// joins that patch instead of queueing another: one follow-up patch covers every save.
    /// `savedAt`: when the watcher saw the save (the start of the patch's ``PatchLatency``).
    @discardableResult
    public func enqueuePatch(
        _ request: PatchRequest = PatchRequest(), trigger: JobTrigger, savedAt: Date? = nil
    ) throws(SessionError) -> Int {
        let (current, queued, patchPending) = read { state in
            (state.currentBuild, state.firstQueuedCompile, state.queue.contains(.patch))
        }
        if let build = request.build {
            let record = try self.build(build)
            guard record.id == current?.id else {
                throw .conflict("not_current_build", "patches are made against the current build \(current?.id.rawValue ?? "-")")
            }
        }
        guard current != nil else {
            throw .conflict("no_build", "there is no successful fat build to patch yet",
                            hint: "wait for the build to finish or POST /api/builds")
        }
        if trigger == .watch, let queued, let id = Int(queued) { return id }
        // Asked for a patch with nothing to patch: say so now instead of recording a failed patch.
        // (With a patch queued or running, the sources it will see are unknown: queue it.)
        if trigger != .watch, !patchPending, sourcesUnchanged() == true {
            throw .conflict("nothing_changed", "no source file changed since the last build or patch",
                            hint: "save an edit to the binary crate's sources, then patch")
        }
        let directory = try SessionError.wrapping { try pipeline.allocatePatch() }
        let now = clock.now()
        var record = PatchRecord(id: directory.id, buildId: nil, state: .queued, trigger: trigger, createdAt: now)
        record.latency = PatchLatency(savedAt: savedAt, queuedAt: now)
        try enqueue(record)
        return directory.id
    }

    /// Cancels a queued or running patch.
    public func cancelPatch(_ id: Int) throws(SessionError) {
        try cancel(PatchRecord.self, String(id))
    }

    /// Whether the tracked sources are as the last build or patch left them; nil when unknown
    /// (the patch is then queued and finds out itself).
    private func sourcesUnchanged() -> Bool? {
        do {
            return try pipeline.sourcesUnchanged()
        } catch {
            logger.warning("cannot read the project's source fingerprints: \(error)")
            return nil
        }
    }

    /// The patch job, on the job thread.
    func runPatch(_ key: String, cancellation: Cancellation) {
        guard let id = Int(key) else { return }
        if let reverted = read({ $0.journal.record(PatchRecord.self, key)?.revertOf }) {
            runRevert(id, of: reverted, cancellation: cancellation)
            return
        }
        runPatch(id, cancellation: cancellation, with: pipeline)
    }

    private func runPatch<Pipeline: PatchPipeline>(_ id: Int, cancellation: Cancellation, with pipeline: Pipeline) {
        let key = String(id)
        let started = clock.instant()
        let build: FatBuild? = change { state in
            guard let build = state.currentBuild?.build else {
                let failure = JobFailure(code: "no_build", message: "there is no successful fat build to patch")
                state.finish(PatchRecord.self, key, .failed, error: failure, at: clock.now())
                return nil
            }
            let now = clock.now()
            let record = state.update(PatchRecord.self, key) { record in
                record.state = .running
                record.startedAt = now
                record.buildId = build.id
                record.updateLatency { $0.startedAt = now }
            }
            if let record { state.emit(.patch(.started, record)) }
            state.emit(.patchProgress(id: id, phase: "rustc", elapsed: clock.instant() - started))
            return build
        }
        guard let build else { return }
        do {
            try markStarted(.patch, key)
            let compilation = try pipeline.compile(build, patch: layout.patch(id), cancellation: cancellation)
            let stored = compilation.stored
            change { state in
                state.update(PatchRecord.self, key) {
                    $0.compilation = stored
                    $0.phases = compilation.phases
                    $0.cratesRebuilt = compilation.rebuiltCrates
                    $0.changedFiles = compilation.changedFiles
                }
                state.emit(.patchProgress(id: id, phase: "link", elapsed: clock.instant() - started))
            }
            // A shared library serves every device (the first link makes it, the others find it);
            // otherwise one link per distinct slide among the build's live devices. With no
            // device, one link at slide 0 proves the patch links and gives curl users a library.
            let references = read { $0.liveDevices(of: build.id).map(\.aslrReference) }
            let anchor = anchorAddress(of: build)
            var linked = Set<UInt64>()
            for reference in references.isEmpty ? [anchor ?? 0] : references where linked.insert(reference).inserted {
                if cancellation.isCancelled { throw CancellationError() }
                try link(compilation, with: pipeline, patchId: id, aslrReference: reference)
            }
            let shared = change { state in
                let now = clock.now()
                return state.update(PatchRecord.self, key) { $0.updateLatency { $0.linkedAt = now } }?
                    .links.first(where: \.isShared)?.libraryPath
            }
            try pipeline.commit(compilation, libraryPath: shared)
            let record = change { state in
                state.update(PatchRecord.self, key) { record in
                    if let plan = record.links.first?.plan { record.phases = plan.phases }
                }
                state.finish(PatchRecord.self, key, .succeeded, error: nil, at: clock.now())
                return state.journal.record(PatchRecord.self, key)
            }
            if let record { logSucceeded(record) }
            notifySourcesChanged()
        } catch {
            // A save that changed nothing (same bytes written again) is not a failure.
            let nothingChanged = (error as? ThinBuildError).map { if case .nothingChanged = $0 { true } else { false } } ?? false
            let jobState: JobState = cancellation.isCancelled || nothingChanged ? .cancelled : .failed
            let failure = JobFailure(error)
            change { state in
                // A library linked before the failure (a commit the full disk refused) was never
                // the patch: no record lists it, nothing serves it.
                state.update(PatchRecord.self, key) { $0.links = [] }
                state.finish(PatchRecord.self, key, jobState, error: failure, at: clock.now())
            }
            logger.error("patch \(id) \(jobState.rawValue): \(failure.logLine)")
            if jobState == .failed { restartAfterUnpatchableEdit(patchId: id, failure: failure) }
        }
    }

    private func logSucceeded(_ record: PatchRecord) {
        let total = record.phases.reduce(0) { $0 + $1.durationMs }
        logger.info("patch \(record.id) succeeded in \(Int(total)) ms (\(record.phases.map { "\($0.name) \(Int($0.durationMs))" }.joined(separator: ", ")))")
        if let latency = record.latency, let toFinished = latency.saveToFinishedMs {
            logger.info("patch \(record.id) latency: \(latency.savedAt == nil ? "queued" : "save") → finished \(Int(toFinished.rounded())) ms (\(PatchLatency.summary(latency.serverSegments)))")
        }
    }
}
