import Foundation
import Hotpatch

/// Patch libraries: linked once (shared) or once per device slide, on demand for late devices.
extension ProjectSession {
    /// Links `compilation` for one process and records the library; reports its jump table to
    /// every live device it serves. Throws the pipeline's errors as they are (callers log them).
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
            emit(.jumpTable(patchId: patchId, device: device.id, link: record.resliding(to: device.aslrReference)))
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
        guard let address = try? CachedSymbolTable.make(
            forBinaryAt: build.binary, architecture: nil, digest: patcher.keptBinaryDigest(build), cache: cache).table.lookup("main")?.address
        else { return nil }
        anchors.withLock { $0[build.id.rawValue] = address }
        return address
    }

    /// The library linked for a device (or for the process at `aslrReference`), linked now if the
    /// patch job did not know that process; the first link when neither is named.
    func library(patchId: Int, deviceId: String?, aslrReference: UInt64?) throws(SessionError) -> LinkRecord {
        let record = try patch(patchId)
        var reference = aslrReference
        if let deviceId {
            reference = try device(deviceId).aslrReference
        }
        if let reference {
            if let link = record.link(for: reference) { return link }
            if record.state == .succeeded, let stored = record.compilation {
                return try SessionError.wrapping { try link(try patcher.restore(stored), patchId: patchId, aslrReference: reference) }
            }
        } else if let first = record.links.first {
            return first
        }
        throw .conflict(
            "no_library", "patch \(patchId) has no library\(record.state == .succeeded ? " for that process" : " (it \(record.state.rawValue))")",
            hint: "libraries exist for succeeded patches; name a registered device with ?device=ID")
    }

    /// The bytes of a linked library; `library_missing` once its file was removed.
    func libraryContents(_ link: LinkRecord, patchId: Int) throws(SessionError) -> [UInt8] {
        guard let bytes = FileManager.default.contents(atPath: link.libraryPath) else {
            throw SessionError(.gone, "library_missing", "the library of patch \(patchId) is no longer on disk")
        }
        return Array(bytes)
    }

    /// Links, off the caller's thread, every succeeded patch of the device's build that has no
    /// library for its slide yet; then reports `devicePatchesLinked` (its long poll wakes).
    func linkMissingPatches(for deviceId: String) {
        linkQueue.async { [self] in
            guard let device = deviceRecord(deviceId) else { return }
            let patches = journal.withLock { $0.patches.filter { $0.buildId == device.buildId && $0.state == .succeeded } }
            for patch in patches where patch.link(for: device.aslrReference) == nil {
                guard let stored = patch.compilation else { continue }
                do {
                    try link(try patcher.restore(stored), patchId: patch.id, aslrReference: device.aslrReference)
                } catch {
                    logger.error("cannot link patch \(patch.id) for device \(deviceId): \(error)")
                    updatePatch(patch.id) { $0.failedBy[deviceId] = "link failed: \(JobFailure(error).message)" }
                }
            }
            emit(.devicePatchesLinked(device: deviceId))
        }
    }
}
