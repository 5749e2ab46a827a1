import Foundation
import Hotpatch

/// Typed reads of the session's records, each a consistent snapshot taken under the journal's lock.
extension ProjectSession {
    // MARK: builds

    /// The newest build that succeeded: the one new devices and patches use.
    var currentBuild: BuildRecord? {
        journal.withLock { $0.builds.last { $0.state == .succeeded } }
    }

    func buildRecord(_ id: String) -> BuildRecord? {
        journal.withLock { $0.builds.first { $0.id.rawValue == id } }
    }

    /// The build with that id; `build_not_found` otherwise.
    func build(_ id: String, hint: String? = nil) throws(SessionError) -> BuildRecord {
        guard let record = buildRecord(id) else { throw .notFound("build", id: id, hint: hint) }
        return record
    }

    /// Every build, oldest first.
    var builds: [BuildRecord] {
        journal.withLock { $0.builds }
    }

    // MARK: patches

    func patchRecord(_ id: Int) -> PatchRecord? {
        journal.withLock { $0.patches.first { $0.id == id } }
    }

    /// The patch with that id; `patch_not_found` otherwise.
    func patch(_ id: Int) throws(SessionError) -> PatchRecord {
        guard let record = patchRecord(id) else { throw .notFound("patch", id: String(id)) }
        return record
    }

    /// The patches with an id greater than `id`, oldest first.
    func patches(after id: Int) -> [PatchRecord] {
        journal.withLock { $0.patches }.filter { $0.id > id }.sorted { $0.id < $1.id }
    }

    // MARK: devices

    /// A registered device that has not been removed.
    func deviceRecord(_ id: String) -> DeviceRecord? {
        journal.withLock { $0.devices.first { $0.id == id && !$0.removed } }
    }

    /// The registered device with that id; `device_not_found` otherwise.
    func device(_ id: String) throws(SessionError) -> DeviceRecord {
        guard let record = deviceRecord(id) else { throw .notFound("device", id: id) }
        return record
    }

    /// Every device not removed, in the order they registered.
    var visibleDevices: [DeviceRecord] {
        journal.withLock { $0.devices.filter { !$0.removed } }
    }

    func liveDevices(of build: BuildID) -> [DeviceRecord] {
        journal.withLock { $0.devices.filter { $0.buildId == build && !$0.removed && $0.state != .lost } }
    }

    // MARK: everything

    func status() -> SessionStatus {
        let toolchain = toolchain.withLock { $0 }
        let (builds, patches) = journal.withLock { ($0.builds, $0.patches) }
        return SessionStatus(
            projectKey: layout.key,
            toolchain: toolchain,
            currentBuild: builds.last { $0.state == .succeeded },
            latestBuild: builds.last,
            queue: queue.entries,
            devices: visibleDevices,
            lastPatch: patches.last,
            patchCount: patches.count)
    }
}
