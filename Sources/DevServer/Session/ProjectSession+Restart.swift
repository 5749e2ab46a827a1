import Foundation
import Hotpatch

/// Hot restart (issue 13): a device whose build is older than the current one can take none of
/// its patches, so it is told to restart into it — the runtime replaces its process with the new
/// binary. An edit the running build can't take (`not_patchable`) starts that new build itself.
extension ProjectSession {
    /// The restart a polling device is to make, recorded (the device is `restarting`); nil when
    /// its build is the current one or the current one isn't ready.
    func takeRestart(for deviceId: String) -> RestartOffer? {
        change { state -> RestartOffer? in
            guard let device = state.visibleDevice(deviceId), let current = state.currentBuild,
                  current.id != device.buildId, let build = current.build, let sha256 = current.binarySha256,
                  let previous = state.journal.record(BuildRecord.self, device.buildId.rawValue),
                  (previous.createdAt, previous.id.rawValue) < (current.createdAt, current.id.rawValue)
            else { return nil }
            if device.state != .restarting {
                state.update(DeviceRecord.self, deviceId) { $0.state = .restarting }
                state.emitDevice(.restarting(buildId: current.id.rawValue, sha256: sha256), deviceId)
                state.journalDidChange()
            }
            return RestartOffer(buildId: current.id, binaryPath: build.binary, sha256: sha256)
        }
    }

    /// `POST /api/restart` (trigger `api`) or the serve terminal's `R` key (`cli`): a fat build;
    /// once it succeeds every device of an older build is told to restart into it.
    func requestRestart(trigger: JobTrigger = .api) throws(SessionError) -> BuildID {
        logger.info("restart requested: building, then every app restarts into the new build")
        return try enqueueBuild(trigger: trigger)
    }

    /// A patch refused as not patchable: build what the edit needs, and restart the apps into it.
    func restartAfterUnpatchableEdit(patchId: Int, failure: JobFailure) {
        guard failure.reasons?.isEmpty == false else { return }
        do {
            let build = try enqueueBuild(trigger: .watch)
            logger.info("patch \(patchId) is not patchable; build \(build.rawValue) queued, the apps restart into it")
        } catch {
            logger.error("patch \(patchId) is not patchable, and no build could be queued to restart into: \(error)")
        }
    }

    /// `PUT /api/devices/{id}/state`: what a device about to restart keeps for its new process.
    func saveState(_ bytes: [UInt8], forDevice deviceId: String) throws(SessionError) {
        try change { (state: inout SessionState) throws(SessionError) in
            guard state.visibleDevice(deviceId) != nil else { throw .notFound("device", id: deviceId) }
            state.savedStates.save(bytes, for: deviceId)
        }
        logger.info("device \(deviceId) saved \(bytes.count) bytes of state for its restart")
    }

    /// `GET /api/devices/{id}/state`: what device `id` saved before its restart — also once it
    /// has been replaced by the process it restarted into, which is who asks.
    func savedState(ofDevice deviceId: String) throws(SessionError) -> [UInt8] {
        let (bytes, known) = read { ($0.savedStates[deviceId], $0.journal.record(DeviceRecord.self, deviceId) != nil) }
        if let bytes { return bytes }
        guard known else { throw .notFound("device", id: deviceId) }
        throw SessionError(.notFound, "state_not_found", "device \(deviceId) saved no state",
                           hint: "the app saves it with whisker_hot::on_save_state, just before a hot restart")
    }

    /// The kept binary of build `id`, for `GET /api/builds/{id}/binary`: its path (the server
    /// sends the file from disk as the client reads it: a real app's binary is tens of MB).
    func binaryFile(ofBuild id: String) throws(SessionError) -> (path: String, sha256: String?, name: String) {
        let record = try build(id, hint: "GET /api/builds lists the builds")
        guard let build = record.build, record.state == .succeeded else {
            throw .conflict("build_not_ready", "build \(id) is \(record.state.rawValue); only a succeeded build has a binary")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: build.binary, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw SessionError(.gone, "binary_missing", "the binary of build \(id) is no longer on disk")
        }
        return (build.binary, record.binarySha256, URL(fileURLWithPath: build.binary).lastPathComponent)
    }
}
