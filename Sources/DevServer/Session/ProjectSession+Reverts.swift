import Foundation
import Hotpatch

/// Reverts: a patch record that compiles nothing and serves again the table of the patch before
/// the one reverted (or the fat build's empty table), so every device goes back to the code that
/// ran then — through the same queue, poll, SSE and acks as any patch.
///
/// Tables are complete (every patch's map and entry patches cover every change of the build so
/// far), so "the state before patch N" is exactly the table of the newest succeeded patch of N's
/// build with a smaller id. Reverting a patch that is not the newest goes back to before it,
/// dropping the later ones too; reverting a revert goes back to the table it replaced.
extension ProjectSession {
    /// Queues a revert of patch `id`; the new record's id. `patch_not_found` for an unknown id,
    /// `patch_not_revertable` (conflict) unless that patch succeeded.
    @discardableResult
    public func enqueueRevert(of id: Int) throws(SessionError) -> Int {
        let reverted = try patch(id)
        guard reverted.state == .succeeded, let build = reverted.buildId else {
            throw .conflict(
                "patch_not_revertable", "patch \(id) is \(reverted.state.rawValue); only a succeeded patch can be reverted",
                hint: "GET /api/patches lists the patches and their states")
        }
        let directory = try SessionError.wrapping { try pipeline.allocatePatch() }
        let now = clock.now()
        var record = PatchRecord(id: directory.id, buildId: build, state: .queued, trigger: .revert, createdAt: now)
        record.revertOf = id
        record.latency = PatchLatency(savedAt: nil, queuedAt: now)
        try enqueue(record)
        return directory.id
    }

    /// Queues a revert of the build's first succeeded patch: its devices go back to the fat
    /// build's code. `nothing_to_revert` (conflict) when the build has no succeeded patch.
    @discardableResult
    public func enqueueRevertToFatBuild(_ buildId: String) throws(SessionError) -> Int {
        let build = try self.build(buildId)
        guard let first = read({ $0.succeededPatches(of: build.id).first }) else {
            throw .conflict(
                "nothing_to_revert", "build \(buildId) has no succeeded patch: its devices run the fat build's code already")
        }
        return try enqueueRevert(of: first.id)
    }

    /// The revert job, on the job thread: no rustc, no link of its own — each process gets the
    /// earlier patch's library (linked for it now if it never was, per-device links) with that
    /// patch's table renumbered, or for the fat build an empty table naming the reverted library.
    func runRevert(_ id: Int, of reverted: Int, cancellation: Cancellation) {
        let key = String(id)
        let started: (build: BuildID, source: Int, target: Int?)? = change { state in
            guard let record = state.journal.record(PatchRecord.self, String(reverted)), record.state == .succeeded,
                  let build = record.buildId else {
                let failure = JobFailure(code: "patch_not_revertable", message: "patch \(reverted) is not a succeeded patch")
                state.finish(PatchRecord.self, key, .failed, error: failure, at: clock.now())
                return nil
            }
            let target = state.succeededPatches(of: build).last { $0.id < reverted }?.id
            let now = clock.now()
            let updated = state.update(PatchRecord.self, key) { record in
                record.state = .running
                record.startedAt = now
                record.buildId = build
                record.revertTo = target
                record.updateLatency { $0.startedAt = now }
            }
            if let updated { state.emit(.patch(.started, updated)) }
            return (build, target ?? reverted, target)
        }
        guard let started else { return }
        do {
            try markStarted(.patch, key)
            // Every process the earlier patch was linked for, and every live device of the build.
            let references = read { state in
                (state.journal.record(PatchRecord.self, String(started.source))?.links.map(\.aslrReference) ?? [])
                    + state.liveDevices(of: started.build).map(\.aslrReference)
            }
            var served = Set<UInt64>()
            var lastFailure: SessionError?
            for reference in references where served.insert(reference).inserted {
                if cancellation.isCancelled { throw CancellationError() }
                do {
                    let source = try library(patchId: started.source, deviceId: nil, aslrReference: reference)
                    change { $0.addRevertLink(source, patchId: id, revertOf: reverted, target: started.target) }
                } catch {
                    // One process's link failing (per-device links) must not keep the revert
                    // from the others: its devices are told, as a late device's catch-up does.
                    lastFailure = error
                    logger.error("revert \(id): no library of patch \(started.source) for \(HexAddress.format(reference)): \(error)")
                    change { state in
                        for device in state.liveDevices(of: started.build) where device.aslrReference == reference {
                            state.update(PatchRecord.self, key) { $0.failedBy[device.id] = "link failed: \(error.message)" }
                        }
                        state.journalDidChange()
                    }
                }
            }
            if let lastFailure, read({ $0.journal.record(PatchRecord.self, key)?.links.isEmpty ?? true }) { throw lastFailure }
            change { state in
                let now = clock.now()
                state.update(PatchRecord.self, key) { $0.updateLatency { $0.linkedAt = now } }
                state.finish(PatchRecord.self, key, .succeeded, error: nil, at: now)
            }
            logger.info("patch \(id) reverts patch \(reverted): devices of build \(started.build.rawValue) run \(started.target.map { "patch \($0)'s" } ?? "the fat build's") code again")
        } catch {
            let state: JobState = cancellation.isCancelled ? .cancelled : .failed
            let failure = JobFailure(error)
            change { session in
                // Only a succeeded record lists libraries (see `runPatch`).
                session.update(PatchRecord.self, key) { $0.links = [] }
                session.finish(PatchRecord.self, key, state, error: failure, at: clock.now())
            }
            logger.error("patch \(id) (revert of \(reverted)) \(state.rawValue): \(failure.logLine)")
        }
    }

    /// A late device's catch-up (on the link executor, oldest patch first): the revert's link for
    /// its process, from the earlier patch's link the catch-up has just made; false when there is
    /// none (that patch failed to link for it).
    func linkRevertOnExecutor(_ record: PatchRecord, aslrReference: UInt64) -> Bool {
        guard let reverted = record.revertOf else { return false }
        let source = record.revertTo ?? reverted
        return change { state in
            guard let link = state.journal.record(PatchRecord.self, String(source))?.link(for: aslrReference) else { return false }
            state.addRevertLink(link, patchId: record.id, revertOf: reverted, target: record.revertTo)
            return true
        }
    }
}

extension SessionState {
    /// Records on revert `patchId` the link `source` (the earlier patch's, for one process) as the
    /// revert serves it, and reports its table to the live devices it serves. One shared link
    /// serves every process: a second is not added.
    mutating func addRevertLink(_ source: LinkRecord, patchId: Int, revertOf: Int, target: Int?) {
        let key = String(patchId)
        guard let record = journal.record(PatchRecord.self, key), let buildId = record.buildId else { return }
        let exists = source.isShared ? record.links.contains(where: \.isShared)
            : record.links.contains { $0.aslrReference == source.aslrReference }
        guard !exists else { return }
        let link = source.reverting(patchId: patchId, revertOf: revertOf, target: target)
        update(PatchRecord.self, key) { $0.links.append(link) }
        for device in liveDevices(of: buildId) where link.isShared || device.aslrReference == link.aslrReference {
            emit(.jumpTable(patchId: patchId, device: device.id, link: link.resliding(to: device.aslrReference)))
        }
        journalDidChange()
    }
}

extension LinkRecord {
    /// This link as revert `patchId` serves it: the same library (already loaded by every device
    /// that applied it), the table renumbered — and emptied when `target` is nil, the fat build's
    /// code: no routes, no entry patches, so the runtime restores every entry it had patched.
    func reverting(patchId: Int, revertOf: Int, target: Int?) -> LinkRecord {
        var copy = self
        copy.table.patchId = patchId
        copy.plan.patchId = patchId
        if let target {
            copy.plan.diff.summary = "revert of patch \(revertOf): patch \(target)'s code (\(plan.diff.summary))"
        } else {
            copy.table.entries = []
            copy.table.entryPatches = []
            copy.plan.library.routedFunctions = 0
            copy.plan.diff.routed = []
            copy.plan.diff.summary = "revert of patch \(revertOf): the fat build's code, nothing routed"
        }
        return copy
    }
}
