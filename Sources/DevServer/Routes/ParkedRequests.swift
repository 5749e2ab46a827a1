import HTTP

/// Requests parked on a session — `?wait=true` on create endpoints and device long polls — woken
/// by the session's events. No thread is held while they wait.
final class ParkedRequests: Sendable {
    /// Keyed by job (build id or patch number); every finished job re-checks them all.
    let jobs = Waiters<String>()
    /// Keyed by device id.
    let devicePolls = Waiters<String>()

    func wake(on event: SessionEvent) {
        switch event {
        case .build(.finished, _):
            jobs.notifyAll()
            devicePolls.notifyAll()  // devices of an older build restart into it
        case .patch(.finished, _):
            jobs.notifyAll()
            devicePolls.notifyAll()
        case .device(.removed, let device):
            devicePolls.notify(device.id)
        case .devicePatchesLinked(let device):
            devicePolls.notify(device)
        case .stopping:
            devicePolls.resolveAll { Response(error: HTTPError.shuttingDown) }
            jobs.resolveAll { Response(error: HTTPError.shuttingDown) }
        default:
            break
        }
    }
}
