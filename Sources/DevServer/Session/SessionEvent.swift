import Hotpatch

/// What happened in a session, as its observers hear it: the event stream publishes most of
/// these, parked requests wake on some.
///
/// Records are the state right after the change.
enum SessionEvent: Sendable {
    /// A build or patch was queued, started, or finished (its record's state says how).
    enum JobStep: Sendable {
        case queued, started, finished
    }

    /// What a device did.
    enum DeviceStep: Sendable {
        /// Registered, or came back after being `lost`.
        case registered
        /// Its report on a patch.
        case acknowledged(patch: Int, applied: Bool, error: String?)
        case removed
        case lost
        /// Told to restart into a newer build.
        case restarting(buildId: String, sha256: String)
        /// Its process came back from a restart, registered as device `as`.
        case restarted(as: String)
        /// Told to restart, it did not come back within ``ProjectSession/restartLostAfter``.
        case restartLost
    }

    case build(JobStep, BuildRecord)
    /// A phase of a running build ended.
    case buildProgress(id: BuildID, phase: PhaseTiming, elapsed: Duration)
    /// The warm-up after a succeeded build started or ended (``WarmUpRecord``).
    case buildWarmUp(id: BuildID, WarmUpRecord)
    case patch(JobStep, PatchRecord)
    /// A running patch entered `phase` (`rustc`, `link`).
    case patchProgress(id: Int, phase: String, elapsed: Duration)
    /// A device's ack added to a patch's latency.
    case patchLatency(id: Int, state: JobState, device: String, latency: PatchLatency)
    case device(DeviceStep, DeviceRecord)
    /// A device's library of a patch is ready: `link` is slid for that device.
    case jumpTable(patchId: Int, device: String, link: LinkRecord)
    /// Every succeeded patch of the device's build has a library for it now.
    case devicePatchesLinked(device: String)
    /// Output lines a device forwarded, numbered as kept.
    case deviceLog(device: String, lines: [DeviceLogEntry])
    /// The session is shutting down: nothing it was asked for will finish any more.
    case stopping
}
