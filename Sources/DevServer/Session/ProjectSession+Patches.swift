import Foundation
import Hotpatch

extension ProjectSession {
    /// Queues a patch of the current sources. A save (trigger `watch`) while a patch waits to start
    /// joins that patch instead of queueing another: one follow-up patch covers every save.
    /// `savedAt`: when the watcher saw the save (the start of the patch's ``PatchLatency``).
    @discardableResult
    public func enqueuePatch(
        _ request: PatchRequest = PatchRequest(), trigger: JobTrigger, savedAt: Date? = nil
    ) throws(SessionError) -> Int {
        if let build = request.build {
            let record = try self.build(build)
            guard record.id == currentBuild?.id else {
                throw .conflict("not_current_build", "patches are made against the current build \(currentBuild?.id.rawValue ?? "-")")
            }
        }
        guard currentBuild != nil else {
            throw .conflict("no_build", "there is no successful fat build to patch yet",
                            hint: "wait for the build to finish or POST /api/builds")
        }
        if trigger == .watch, let queued = queue.firstQueued(.patch), let id = Int(queued) { return id }
        // Asked for a patch with nothing to patch: say so now instead of recording a failed patch.
        // (With a patch queued or running, the sources it will see are unknown: queue it.)
        if trigger != .watch, queue.entries.allSatisfy({ $0.kind != .patch }),
           let state = try? ProjectState.load(layout), !state.sources.isEmpty, ChangeDetection.detect(state.sources).isEmpty
        {
            throw .conflict("nothing_changed", "no source file changed since the last build or patch",
                            hint: "save an edit to the binary crate's sources, then patch")
        }
        let directory = try SessionError.wrapping { try layout.allocatePatch() }
        var record = PatchRecord(id: directory.id, buildId: nil, state: .queued, trigger: trigger, createdAt: Date())
        record.latency = PatchLatency(savedAt: savedAt, queuedAt: record.createdAt)
        journal.withLock { $0.patches.append(record) }
        emit(.patch(.queued, record))
        let accepted = queue.enqueue(JobQueue.Job(
            kind: .patch, key: String(directory.id), queuedAt: record.createdAt, cancellation: Cancellation(),
            run: { [self] cancellation in runPatch(directory, cancellation: cancellation) },
            cancelled: { [self] in finishPatch(directory.id, state: .cancelled, error: nil) }))
        guard accepted else {
            finishPatch(directory.id, state: .cancelled, error: JobFailure(code: "shutting_down", message: "the server is shutting down"))
            throw .shuttingDown
        }
        saveJournal()
        return directory.id
    }

    /// Cancels a queued or running patch.
    public func cancelPatch(_ id: Int) throws(SessionError) {
        let record = try patch(id)
        guard !record.state.isFinished else { throw .jobFinished("patch", id: String(id), state: record.state) }
        _ = queue.cancel(kind: .patch, key: String(id))
    }

    private func runPatch(_ directory: PatchDirectory, cancellation: Cancellation) {
        let id = directory.id
        let started = ContinuousClock.now
        guard let build = currentBuild?.build else {
            finishPatch(id, state: .failed, error: JobFailure(code: "no_build", message: "there is no successful fat build to patch"))
            return
        }
        let now = Date()
        updatePatch(id) { record in
            record.state = .running
            record.startedAt = now
            record.buildId = build.id
            record.updateLatency { $0.startedAt = now }
        }
        if let record = patchRecord(id) { emit(.patch(.started, record)) }
        emit(.patchProgress(id: id, phase: "rustc", elapsed: ContinuousClock.now - started))
        do {
            // Coloured diagnostics: the status page renders rustc's ANSI colours.
            let compilation = try patcher.compile(
                build: build, patch: directory, extraRustcArguments: ["--color=always"], cancellation: cancellation)
            updatePatch(id) {
                $0.compilation = StoredCompilation(compilation)
                $0.phases = compilation.phases
                $0.cratesRebuilt = compilation.rebuiltCrates
                $0.changedFiles = compilation.thinPlan.changes.changed.flatMap(\.changedFiles)
            }
            emit(.patchProgress(id: id, phase: "link", elapsed: ContinuousClock.now - started))
            // A shared library serves every device (the first link makes it, the others find it);
            // otherwise one link per distinct slide among the build's live devices. With no
            // device, one link at slide 0 proves the patch links and gives curl users a library.
            let references = liveDevices(of: build.id).map(\.aslrReference)
            let anchor = anchorAddress(of: build)
            var linked = Set<UInt64>()
            for reference in references.isEmpty ? [anchor ?? 0] : references where linked.insert(reference).inserted {
                try cancellationCheck(cancellation)
                try link(compilation, patchId: id, aslrReference: reference)
            }
            updatePatch(id) { $0.updateLatency { $0.linkedAt = Date() } }
            try patcher.commit(compilation, libraryPath: patchRecord(id)?.links.first(where: \.isShared)?.libraryPath)
            updatePatch(id) { record in
                if let plan = record.links.first?.plan { record.phases = plan.phases }
            }
            finishPatch(id, state: .succeeded, error: nil)
            if let record = patchRecord(id) {
                let total = record.phases.reduce(0) { $0 + $1.durationMs }
                logger.info("patch \(id) succeeded in \(Int(total)) ms (\(record.phases.map { "\($0.name) \(Int($0.durationMs))" }.joined(separator: ", ")))")
                if let latency = record.latency, let toFinished = latency.saveToFinishedMs {
                    logger.info("patch \(id) latency: \(latency.savedAt == nil ? "queued" : "save") → finished \(Int(toFinished.rounded())) ms (\(PatchLatency.summary(latency.serverSegments)))")
                }
            }
            sourcesChanged.withLock { $0 }?()
        } catch {
            // A save that changed nothing (same bytes written again) is not a failure.
            let nothingChanged = (error as? ThinBuildError).map { if case .nothingChanged = $0 { true } else { false } } ?? false
            let state: JobState = cancellation.isCancelled || nothingChanged ? .cancelled : .failed
            finishPatch(id, state: state, error: JobFailure(error))
            logger.error("patch \(id) \(state.rawValue): \(JobFailure(error).logLine)")
        }
    }

    private func cancellationCheck(_ cancellation: Cancellation) throws {
        if cancellation.isCancelled { throw CancellationError() }
    }

    func updatePatch(_ id: Int, _ change: (inout PatchRecord) -> Void) {
        journal.withLock { journal in
            if let index = journal.patches.firstIndex(where: { $0.id == id }) { change(&journal.patches[index]) }
        }
    }

    func finishPatch(_ id: Int, state: JobState, error: JobFailure?) {
        let now = Date()
        updatePatch(id) { record in
            record.state = state
            record.finishedAt = now
            record.error = error
            record.updateLatency { $0.finishedAt = now }
        }
        if let record = patchRecord(id) { emit(.patch(.finished, record)) }
        saveJournal()
    }
}
