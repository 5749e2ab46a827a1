import Foundation

/// Device logs: the lines a device forwards are kept in a bounded ring per device (never
/// journaled) and reported as `deviceLog` events.
extension ProjectSession {
    /// The most lines one `GET …/logs` answers with.
    static let deviceLogPageLimit = 5000

    /// Keeps a device's forwarded lines (numbering them) and reports them as `deviceLog`.
    func recordLogs(deviceId: String, _ batch: DeviceLogBatch) throws(SessionError) {
        _ = try device(deviceId)
        deviceSeen(deviceId)
        let now = clock.now()
        change { state in
            if state.deviceLogs[deviceId] == nil {
                // A ring only for devices still shown: a restarted or removed device's goes.
                state.deviceLogs = state.deviceLogs.filter { state.visibleDevice($0.key) != nil }
            }
            let added = state.deviceLogs[deviceId, default: DeviceLogRing()].append(batch.lines, dropped: batch.dropped, receivedAt: now)
            if !added.isEmpty { state.emit(.deviceLog(device: deviceId, lines: added)) }
        }
    }

    /// The device's kept lines after `since` (0: all of them), oldest first.
    func deviceLogs(_ deviceId: String, since: Int) throws(SessionError) -> DeviceLogPage {
        _ = try device(deviceId)
        return read { state in
            (state.deviceLogs[deviceId] ?? DeviceLogRing()).page(since: since, limit: Self.deviceLogPageLimit)
        }
    }
}
