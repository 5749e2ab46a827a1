import Foundation
import Hotpatch

/// Patch libraries: linked once (shared) or once per device slide, on demand for late devices.
/// Every link runs on the link executor, one at a time.
extension ProjectSession {
    /// Links `compilation` for one process and records the library; reports its jump table to
    /// every live device it serves. A library already linked for that process is returned as it
    /// is. Throws the pipeline's errors as they are (callers log them).
    @discardableResult
    func link<Pipeline: PatchPipeline>(
        _ compilation: Pipeline.Compilation, with pipeline: Pipeline, patchId: Int, aslrReference: UInt64
    ) throws -> LinkRecord {
        try linkExecutor.sync { try linkOnExecutor(compilation, with: pipeline, patchId: patchId, aslrReference: aslrReference) }
    }

    /// ``link(_:with:patchId:aslrReference:)`` of a compilation stored in the patch's record.
    @discardableResult
    func linkStored(_ stored: StoredCompilation, patchId: Int, aslrReference: UInt64) throws -> LinkRecord {
        try restoreAndLink(stored, with: pipeline, patchId: patchId, aslrReference: aslrReference, onExecutor: false)
    }

    /// Restores, then links; `onExecutor`: the caller already runs on the link executor (a late
    /// device's catch-up), where a `sync` onto it would wait for itself.
    @discardableResult
    private func restoreAndLink<Pipeline: PatchPipeline>(
        _ stored: StoredCompilation, with pipeline: Pipeline, patchId: Int, aslrReference: UInt64, onExecutor: Bool
    ) throws -> LinkRecord {
        let compilation = try pipeline.restore(stored)
        if onExecutor { return try linkOnExecutor(compilation, with: pipeline, patchId: patchId, aslrReference: aslrReference) }
        return try link(compilation, with: pipeline, patchId: patchId, aslrReference: aslrReference)
    }

    /// The link itself: on the link executor, so the look for an existing library and the record
    /// of the new one have no other link between them.
    private func linkOnExecutor<Pipeline: PatchPipeline>(
        _ compilation: Pipeline.Compilation, with pipeline: Pipeline, patchId: Int, aslrReference: UInt64
    ) throws -> LinkRecord {
        dispatchPrecondition(condition: .onQueue(linkExecutor))
        let key = String(patchId)
        if let existing = read({ $0.journal.record(PatchRecord.self, key)?.link(for: aslrReference) }) { return existing }
        let linked = try pipeline.link(compilation, aslrReference: aslrReference)
        let plan = linked.plan
        let record = LinkRecord(
            aslrReference: aslrReference, libraryPath: plan.library.path, sha256: plan.library.sha256,
            size: plan.library.size, table: linked.jumpTable, plan: plan)
        change { state in
            state.update(PatchRecord.self, key) { $0.links.append(record) }
            state.unsyncedFiles.append(record.libraryPath)
            for device in state.liveDevices(of: compilation.buildId) where record.isShared || device.aslrReference == aslrReference {
                state.emit(.jumpTable(patchId: patchId, device: device.id, link: record.resliding(to: device.aslrReference)))
            }
            state.journalDidChange()
        }
        return record
    }

    /// The file address of the build's `main`, looked up once per build: the symbol table lookup
    /// hashes the whole binary (74 MB for a real app), which must not sit between a patch's
    /// compile and its link on every save. Nil (logged) when the binary has no readable `main`.
    func anchorAddress(of build: FatBuild) -> UInt64? {
        if let known = read({ $0.anchors[build.id] }) { return known }
        let address: UInt64?
        do {
            address = try pipeline.anchorAddress(of: build)
        } catch {
            logger.error("cannot read the symbols of build \(build.id.rawValue) (devices get no slide, patches link at 0): \(error)")
            return nil
        }
        guard let address else { return nil }
        change { $0.anchors[build.id] = address }
        return address
    }

    /// The library linked for a device (or for the process at `aslrReference`), linked now if the
    /// patch job did not know that process; the first link when neither is named.
    func library(patchId: Int, deviceId: String?, aslrReference: UInt64?) throws(SessionError) -> LinkRecord {
        let record = try patch(patchId)
        guard record.state == .succeeded else {
            // Linked but not committed (still running, or failed after its link): not the patch yet.
            throw .conflict("no_library", "patch \(patchId) has no library (it \(record.state == .running ? "is running" : record.state.rawValue))",
                            hint: "libraries exist for succeeded patches")
        }
        var reference = aslrReference
        if let deviceId {
            reference = try device(deviceId).aslrReference
        }
        if let reference {
            if let link = record.link(for: reference) { return link }
            if let reverted = record.revertOf {
                // A revert serves the earlier patch's library: that one linked for this process.
                let source = try library(patchId: record.revertTo ?? reverted, deviceId: nil, aslrReference: reference)
                change { $0.addRevertLink(source, patchId: patchId, revertOf: reverted, target: record.revertTo) }
                if let link = patchRecord(patchId)?.link(for: reference) { return link }
            }
            if let stored = record.compilation {
                return try SessionError.wrapping { try linkStored(stored, patchId: patchId, aslrReference: reference) }
            }
        } else if let first = record.links.first {
            return first
        }
        throw .conflict(
            "no_library", "patch \(patchId) has no library for that process",
            hint: "libraries exist for succeeded patches; name a registered device with ?device=ID")
    }

    /// The bytes of a linked library, exactly those its record describes: `library_missing` once
    /// its file was removed, `library_corrupt` when the file no longer has the recorded size and
    /// sha256 (cut short by a crash or a full disk, changed by hand) — a device is never sent
    /// bytes that are not the patch. Both are 410: the runtime then gives the patch up rather than
    /// retrying it forever.
    func libraryContents(_ link: LinkRecord, patchId: Int) throws(SessionError) -> [UInt8] {
        TestHooks.pause(at: .download)
        guard let data = FileManager.default.contents(atPath: link.libraryPath) else {
            throw SessionError(.gone, "library_missing", "the library of patch \(patchId) is no longer on disk")
        }
        let bytes = Array(data)
        guard bytes.count == link.size, HotpatchModuleCache.sha256(of: bytes) == link.sha256 else {
            logger.error("patch \(patchId): \(link.libraryPath) is \(bytes.count) bytes that do not match the recorded \(link.size) bytes and sha256 \(link.sha256); not served")
            throw SessionError(.gone, "library_corrupt", "the library of patch \(patchId) on disk is not the one that was linked (\(bytes.count) of \(link.size) bytes, sha256 differs)",
                               hint: "make a new patch: save the source again, or POST /api/patches")
        }
        return bytes
    }

    /// Links, on the link executor, every succeeded patch of the device's build that has no
    /// library for its slide yet, oldest first; then reports `devicePatchesLinked` (its long poll
    /// wakes). A link that fails is recorded in the patch's `failedBy` for that device.
    func linkMissingPatches(for deviceId: String) {
        linkExecutor.async { [self] in
            let found = read { state in state.visibleDevice(deviceId).map { ($0, state.succeededPatches(of: $0.buildId)) } }
            guard let (device, patches) = found else { return }
            for patch in patches where patch.link(for: device.aslrReference) == nil {
                if patch.isRevert {
                    // Its source is older, so this loop has just linked it (or recorded why not).
                    if !linkRevertOnExecutor(patch, aslrReference: device.aslrReference) {
                        change { state in
                            state.update(PatchRecord.self, patch.key) {
                                $0.failedBy[deviceId] = "the patch it reverts to has no library for this process"
                            }
                            state.journalDidChange()
                        }
                    }
                    continue
                }
                guard let stored = patch.compilation else { continue }
                do {
                    try restoreAndLink(stored, with: pipeline, patchId: patch.id, aslrReference: device.aslrReference, onExecutor: true)
                } catch {
                    logger.error("cannot link patch \(patch.id) for device \(deviceId): \(error)")
                    let reason = "link failed: \(JobFailure(error).message)"
                    change { state in
                        state.update(PatchRecord.self, patch.key) { $0.failedBy[deviceId] = reason }
                        state.journalDidChange()
                    }
                }
            }
            change { $0.emit(.devicePatchesLinked(device: deviceId)) }
        }
    }
}
