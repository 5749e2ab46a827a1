import Foundation
import Hotpatch

/// What the status lines at the bottom of `serve`'s terminal say, from one snapshot of the
/// session: a bar with the build, the devices and the last patch; the last patch's phase timings
/// (or why it failed); the keys. A pure function of its inputs, so it is tested without a terminal.
enum ServeStatusLines {
    /// The keys of the terminal UI, as the legend names them. The letters are the contract.
    static func legend(pageURL: String, deviceLogs: Bool) -> String {
        "r patch now · R hot restart · o open \(pageURL) · l device logs: \(deviceLogs ? "on" : "off") · q quit"
    }

    static func make(status: SessionStatus, now: Date, pageURL: String, deviceLogs: Bool) -> [StatusLine] {
        let bar = ["whisker-dev", build(status, now: now), devices(status.devices), patchSummary(status.lastPatch, now: now)]
        return [
            StatusLine(text: " " + bar.joined(separator: "  ·  "), style: .bar),
            StatusLine(text: " " + patchDetail(status.lastPatch)),
            StatusLine(text: " " + legend(pageURL: pageURL, deviceLogs: deviceLogs), style: .dim),
        ]
    }

    /// The newest build and, when that one is not it, the build patches go against.
    static func build(_ status: SessionStatus, now: Date) -> String {
        guard let latest = status.latestBuild else { return "no build yet" }
        var text = "build \(latest.id.rawValue) "
        switch latest.state {
        case .queued: text += "queued"
        case .running: text += "running \(duration(from: latest.startedAt ?? latest.createdAt, to: now))"
        case .succeeded:
            text += "succeeded"
            if let started = latest.startedAt, let finished = latest.finishedAt { text += " in \(duration(from: started, to: finished))" }
            if let warmUp = latest.warmUp, warmUp.state == .running || warmUp.state == .queued { text += ", warming up" }
        case .failed: text += "failed"
        case .cancelled: text += "cancelled"
        }
        if let current = status.currentBuild, current.id != latest.id { text += " (patching \(current.id.rawValue))" }
        return text
    }

    /// `2 devices: 1 up_to_date, 1 lost`.
    static func devices(_ devices: [DeviceRecord]) -> String {
        guard !devices.isEmpty else { return "no devices" }
        var counts: [(DeviceState, Int)] = []
        for device in devices {
            if let index = counts.firstIndex(where: { $0.0 == device.state }) {
                counts[index].1 += 1
            } else {
                counts.append((device.state, 1))
            }
        }
        let noun = devices.count == 1 ? "device" : "devices"
        // Words as the page shows them (`up to date`), not the API's `up_to_date`.
        return "\(devices.count) \(noun): " + counts.map { "\($0.1) \($0.0.rawValue.replacingOccurrences(of: "_", with: " "))" }
            .joined(separator: ", ")
    }

    /// `patch 3 succeeded in 412 ms`.
    static func patchSummary(_ patch: PatchRecord?, now: Date) -> String {
        guard let patch else { return "no patch yet" }
        var text = "patch \(patch.id) "
        switch patch.state {
        case .queued: text += "queued"
        case .running: text += "running \(duration(from: patch.startedAt ?? patch.createdAt, to: now))"
        case .succeeded, .failed, .cancelled:
            text += patch.state.rawValue
            if let started = patch.startedAt, let finished = patch.finishedAt { text += " in \(duration(from: started, to: finished))" }
        }
        return text
    }

    /// The last patch's phases and save → applied, or its error.
    static func patchDetail(_ patch: PatchRecord?) -> String {
        guard let patch else { return "no patch yet: save a source file of the project, or press r" }
        if let reverted = patch.revertOf {
            return "patch \(patch.id) reverts patch \(reverted)" + (patch.revertTo.map { " (back to patch \($0))" } ?? " (back to the build)")
        }
        if let error = patch.error { return "patch \(patch.id) \(patch.state.rawValue): \(error.logLine)" }
        guard !patch.phases.isEmpty else { return "patch \(patch.id) \(patch.state.rawValue)" }
        // Save → applied first: it is the figure that matters, and a narrow terminal cuts the end.
        var text = "patch \(patch.id): "
        if let latency = patch.latency {
            let applied = latency.devices.compactMap { latency.saveToAppliedMs($0) }
            if let worst = applied.max() {
                let from = latency.savedAt == nil ? "queued" : "save"
                text += "\(from) → applied \(milliseconds(worst)) on \(applied.count) device\(applied.count == 1 ? "" : "s") · "
            }
        }
        text += patch.phases.map { "\($0.name) \(Int($0.durationMs.rounded()))" }.joined(separator: ", ") + " ms"
        return text
    }

    /// `412 ms`, `3.4 s`, `2 min 5 s`.
    static func duration(from start: Date, to end: Date) -> String {
        milliseconds(max(0, end.timeIntervalSince(start) * 1000))
    }

    static func milliseconds(_ ms: Double) -> String {
        if ms < 1000 { return "\(Int(ms.rounded())) ms" }
        if ms < 60_000 { return String(format: "%.1f s", ms / 1000) }
        let seconds = Int(ms / 1000)
        return "\(seconds / 60) min \(seconds % 60) s"
    }
}
