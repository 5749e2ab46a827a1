import Foundation
import Hotpatch

/// Typed reads of the session's records, each a consistent snapshot taken under the state's lock.
extension ProjectSession {
    // MARK: builds

    /// The newest build that succeeded: the one new devices and patches use.
    var currentBuild: BuildRecord? {
        read(\.currentBuild)
    }

    func buildRecord(_ id: String) -> BuildRecord? {
        read { $0.journal.record(BuildRecord.self, id) }
    }

    /// The build with that id; `build_not_found` otherwise.
    func build(_ id: String, hint: String? = nil) throws(SessionError) -> BuildRecord {
        guard let record = buildRecord(id) else { throw .notFound("build", id: id, hint: hint) }
        return record
    }

    /// Every build, oldest first.
    var builds: [BuildRecord] {
        read(\.journal.builds)
    }

    // MARK: patches

    func patchRecord(_ id: Int) -> PatchRecord? {
        read { $0.journal.record(PatchRecord.self, String(id)) }
    }

    /// The patch with that id; `patch_not_found` otherwise.
    func patch(_ id: Int) throws(SessionError) -> PatchRecord {
        guard let record = patchRecord(id) else { throw .notFound("patch", id: String(id)) }
        return record
    }

    /// The patches with an id greater than `id`, oldest first.
    func patches(after id: Int) -> [PatchRecord] {
        read(\.journal.patches).filter { $0.id > id }.sorted { $0.id < $1.id }
    }

    // MARK: devices

    /// A registered device that has not been removed.
    func deviceRecord(_ id: String) -> DeviceRecord? {
        read { $0.visibleDevice(id) }
    }

    /// The registered device with that id; `device_not_found` otherwise.
    func device(_ id: String) throws(SessionError) -> DeviceRecord {
        guard let record = deviceRecord(id) else { throw .notFound("device", id: id) }
        return record
    }

    /// Every device not removed, in the order they registered.
    var visibleDevices: [DeviceRecord] {
        read { $0.journal.devices.filter { !$0.removed } }
    }

    func liveDevices(of build: BuildID) -> [DeviceRecord] {
        read { $0.liveDevices(of: build) }
    }

    // MARK: everything

    func status() -> SessionStatus {
        read { state in
            SessionStatus(
                projectKey: layout.key,
                toolchain: state.toolchain,
                currentBuild: state.currentBuild,
                latestBuild: state.journal.builds.last,
                queue: state.queue.entries,
                devices: state.journal.devices.filter { !$0.removed },
                lastPatch: state.journal.patches.last,
                patchCount: state.journal.patches.count)
        }
    }
}
