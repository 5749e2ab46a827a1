import Foundation
import HTTP
import Hotpatch

extension ProjectSession {
    func patchRecord(_ id: Int) -> PatchRecord? {
        journal.withLock { $0.patches.first { $0.id == id } }
    }

    func updatePatch(_ id: Int, _ change: (inout PatchRecord) -> Void) {
        journal.withLock { journal in
            if let index = journal.patches.firstIndex(where: { $0.id == id }) { change(&journal.patches[index]) }
        }
    }

    /// Queues a patch of the current sources. A save (trigger `watch`) while a patch waits to start
    /// joins that patch instead of queueing another: one follow-up patch covers every save.
    /// `savedAt`: when the watcher saw the save (the start of the patch's ``PatchLatency``).
    @discardableResult
    public func enqueuePatch(trigger: JobTrigger, savedAt: Date? = nil) throws -> Int {
        guard currentBuild != nil else {
            throw HTTPError.conflict(code: "no_build", "there is no successful fat build to patch yet",
                                     hint: "wait for the build to finish or POST /api/builds")
        }
        if trigger == .watch, let queued = queue.firstQueued(.patch), let id = Int(queued) { return id }
        // Asked for a patch with nothing to patch: say so now instead of recording a failed patch.
        // (With a patch queued or running, the sources it will see are unknown: queue it.)
        if trigger != .watch, queue.entries.allSatisfy({ $0.kind != .patch }),
           let state = try? ProjectState.load(layout), !state.sources.isEmpty, ChangeDetection.detect(state.sources).isEmpty
        {
            throw HTTPError.conflict(code: "nothing_changed", "no source file changed since the last build or patch",
                                     hint: "save an edit to the binary crate's sources, then patch")
        }
        let directory = try layout.allocatePatch()
        var record = PatchRecord(id: directory.id, buildId: nil, state: .queued, trigger: trigger, createdAt: Date())
        record.latency = PatchLatency(savedAt: savedAt, queuedAt: record.createdAt)
        journal.withLock { $0.patches.append(record) }
        publishPatch("patch.queued", directory.id)
        let accepted = queue.enqueue(JobQueue.Job(
            kind: .patch, key: String(directory.id), queuedAt: record.createdAt, cancellation: Cancellation(),
            run: { [self] cancellation in runPatch(directory, cancellation: cancellation) },
            cancelled: { [self] in finishPatch(directory.id, state: .cancelled, error: nil) }))
        guard accepted else {
            finishPatch(directory.id, state: .cancelled, error: JobFailure(code: "shutting_down", message: "the server is shutting down"))
            throw HTTPError.shuttingDown
        }
        saveJournal()
        return directory.id
    }

    /// Cancels a queued or running patch.
    public func cancelPatch(_ id: Int) throws {
        guard let record = patchRecord(id) else { throw HTTPError.notFound("patch", id: String(id)) }
        guard !record.state.isFinished else {
            throw HTTPError.conflict(code: "job_finished", "patch \(id) is already \(record.state.rawValue)")
        }
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
        publishPatch("patch.started", id)
        publishProgress(id, phase: "rustc", since: started)
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
            publishProgress(id, phase: "link", since: started)
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

    /// Links `compilation` for one process and records the library; publishes its jump table.
    @discardableResult
    func link(_ compilation: PatchCompilation, patchId: Int, aslrReference: UInt64) throws -> LinkRecord {
        linkLock.lock()
        defer { linkLock.unlock() }
        if let existing = patchRecord(patchId)?.link(for: aslrReference) { return existing }
        let linked = try patcher.link(compilation, aslrReference: aslrReference)
        let plan = linked.plan
        let record = LinkRecord(
            aslrReference: aslrReference, libraryPath: plan.library.path, sha256: plan.library.sha256,
            size: plan.library.size, jumpTableJSON: linked.jumpTable.json(), subsecondJSON: linked.jumpTable.subsecondJSON(),
            plan: plan, table: linked.jumpTable)
        updatePatch(patchId) { $0.links.append(record) }
        for device in liveDevices(of: compilation.build.id) where record.isShared || device.aslrReference == aslrReference {
            let deviceLink = record.resliding(to: device.aslrReference)
            var data: JSONObject = ["patchId": .int(Int64(patchId)), "device": .string(device.id)]
            data["libraryUrl"] = .string(libraryURL(patchId: patchId, deviceId: device.id))
            data["sha256"] = .string(deviceLink.sha256)
            data["jumpTable"] = (try? JSONValue.parse(Array(deviceLink.jumpTableJSON.utf8))) ?? .null
            _ = events.publish("jump-table", .object(data))
        }
        saveJournal()
        return record
    }

    /// The runtime address of the build's `main` in its file, looked up once per build: the
    /// symbol table lookup hashes the whole binary (74 MB for a real app), which must not sit
    /// between a patch's compile and its link on every save.
    func anchorAddress(of build: FatBuild) -> UInt64? {
        if let known = anchors.withLock({ $0[build.id.rawValue] }) { return known }
        // The patcher memoises the kept binary's digest beside it.
        guard let address = try? cache.symbolTable(
            forBinaryAt: build.binary, architecture: nil, digest: patcher.keptBinaryDigest(build)).0.lookup("main")?.address
        else { return nil }
        anchors.withLock { $0[build.id.rawValue] = address }
        return address
    }

    private func publishProgress(_ id: Int, phase: String, since start: ContinuousClock.Instant) {
        _ = events.publish("patch.progress", [
            "id": .int(Int64(id)), "state": "running", "phase": .string(phase),
            "elapsedMs": .int(Int64((ContinuousClock.now - start).milliseconds)),
        ])
    }

    func finishPatch(_ id: Int, state: JobState, error: JobFailure?) {
        let now = Date()
        updatePatch(id) { record in
            record.state = state
            record.finishedAt = now
            record.error = error
            record.updateLatency { $0.finishedAt = now }
        }
        publishPatch("patch.\(state.rawValue)", id)
        saveJournal()
        jobWaiters.notifyAll()
        devicePolls.notifyAll()
    }

    func publishPatch(_ name: String, _ id: Int) {
        guard let record = patchRecord(id) else { return }
        var data: JSONObject = ["id": .int(Int64(id)), "state": .string(record.state.rawValue)]
        if let error = record.error { data["error"] = Self.failureJSON(error) }
        data["patch"] = patchJSON(record)
        _ = events.publish(name, .object(data))
    }

    /// The library linked for a device, or the first link when no device is named.
    func library(patchId: Int, deviceId: String?, aslrReference: UInt64?) throws -> LinkRecord {
        guard let record = patchRecord(patchId) else { throw HTTPError.notFound("patch", id: String(patchId)) }
        var reference = aslrReference
        if let deviceId {
            guard let device = deviceRecord(deviceId) else { throw HTTPError.notFound("device", id: deviceId) }
            reference = device.aslrReference
        }
        if let reference {
            if let link = record.link(for: reference) { return link }
            // A device's library is linked on demand if the patch job did not know the device.
            if record.state == .succeeded, let stored = record.compilation {
                return try link(try patcher.restore(stored), patchId: patchId, aslrReference: reference)
            }
        } else if let first = record.links.first {
            return first
        }
        throw HTTPError.conflict(
            code: "no_library", "patch \(patchId) has no library\(record.state == .succeeded ? " for that process" : " (it \(record.state.rawValue))")",
            hint: "libraries exist for succeeded patches; name a registered device with ?device=ID")
    }

    func libraryURL(patchId: Int, deviceId: String) -> String {
        "/api/patches/\(patchId)/library?device=\(deviceId)"
    }
}
