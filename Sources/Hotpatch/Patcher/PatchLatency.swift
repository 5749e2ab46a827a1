import Foundation

/// Where the time between a save and a running app's new code went, for one patch.
///
/// The phases (``PatchPlan/phases``) cover the pipeline only; this covers the whole path: the
/// watcher seeing the save, the job queued and started, the job finished (library and jump table
/// ready, device polls woken), and per device the poll answer sent, the table received, the library
/// fetched and loaded, the table applied and the ack received. The dev server fills it; the device's
/// part comes from its ack (``DeviceTimings``).
///
/// Server instants use the server's clock. A device's wall-clock instants are clamped into
/// `[sentAt, ackedAt]` (the server's own bounds for them) so a device whose clock is off still
/// gives a meaningful save → applied figure.
public struct PatchLatency: Codable, Sendable, Equatable {
    /// When the file watcher saw the first write of the save (nil: asked for through the API or CLI).
    public var savedAt: Date?
    public var queuedAt: Date
    public var startedAt: Date?
    /// The library is linked and the jump table exists (what devices receive).
    public var linkedAt: Date?
    /// The job finished: the patch is committed as the next patch's baseline and polls are woken.
    public var finishedAt: Date?
    /// One entry per device that acked the patch, in ack order.
    public var devices: [Device]

    public init(savedAt: Date?, queuedAt: Date) {
        self.savedAt = savedAt
        self.queuedAt = queuedAt
        devices = []
    }

    /// What the device measured itself while applying one patch (all in milliseconds, from its
    /// monotonic clock), as its ack reports them.
    public struct DeviceTimings: Codable, Sendable, Equatable {
        /// Parsing the poll answer and the jump table.
        public var parseMs: Double
        /// Getting the library: the server's own file checked in place, or downloaded, checked and stored.
        public var fetchMs: Double
        /// `dlopen` of the library.
        public var loadMs: Double
        /// Checking and installing the table (and entry patches) after the load.
        public var applyMs: Double
        /// Received → applied, the sum of the above.
        public var totalMs: Double
        /// `local` (the server's file, loaded in place) or `download`.
        public var fetch: String?

        public init(parseMs: Double, fetchMs: Double, loadMs: Double, applyMs: Double, totalMs: Double, fetch: String?) {
            self.parseMs = parseMs
            self.fetchMs = fetchMs
            self.loadMs = loadMs
            self.applyMs = applyMs
            self.totalMs = totalMs
            self.fetch = fetch
        }
    }

    /// One device's part of the path.
    public struct Device: Codable, Sendable, Equatable {
        public var device: String
        /// `applied` or `failed`, as acked.
        public var status: String
        /// Server clock: the poll answer carrying the patch was produced.
        public var sentAt: Date?
        /// Device clock (clamped): the poll answer was read.
        public var receivedAt: Date?
        /// Device clock (clamped): the table was applied (or the patch failed).
        public var appliedAt: Date?
        /// Server clock: the ack arrived.
        public var ackedAt: Date
        public var timings: DeviceTimings?

        public init(
            device: String, status: String, sentAt: Date?, receivedAt: Date?, appliedAt: Date?, ackedAt: Date,
            timings: DeviceTimings?
        ) {
            self.device = device
            self.status = status
            self.sentAt = sentAt
            let low = sentAt ?? .distantPast
            // Clamped into what the server itself observed (a skewed device clock cannot invert the order).
            let received = receivedAt.map { min(max($0, low), ackedAt) }
            self.receivedAt = received
            self.appliedAt = appliedAt.map { min(max($0, received ?? low), ackedAt) }
            self.ackedAt = ackedAt
            self.timings = timings
        }
    }

    /// One span of the path with its length.
    public struct Segment: Sendable, Equatable {
        /// `watch`, `queue`, `job`, `commit`, `wakeUp`, `transit`, `parse`, `fetch`, `load`, `apply`, `ack`.
        public var name: String
        public var durationMs: Double
    }

    /// The server-side segments: save seen → queued (`watch`), → started (`queue`), → linked
    /// (`job`), → finished (`commit`).
    public var serverSegments: [Segment] {
        var segments: [Segment] = []
        func add(_ name: String, _ from: Date?, _ to: Date?) {
            guard let from, let to else { return }
            segments.append(Segment(name: name, durationMs: Self.ms(from, to)))
        }
        add("watch", savedAt, queuedAt)
        add("queue", queuedAt, startedAt)
        add("job", startedAt, linkedAt ?? finishedAt)
        if linkedAt != nil { add("commit", linkedAt, finishedAt) }
        return segments
    }

    /// The segments of one device after the job: finished → poll answered (`wakeUp`), → received
    /// (`transit`), the device's own `parse`, `fetch`, `load`, `apply`, then applied → ack
    /// received (`ack`).
    public func deviceSegments(_ device: Device) -> [Segment] {
        var segments: [Segment] = []
        // A device that polls after the job (it registered late) waits on nothing: no negative wake-up.
        if let finishedAt, let sentAt = device.sentAt { segments.append(Segment(name: "wakeUp", durationMs: max(0, Self.ms(finishedAt, sentAt)))) }
        if let sentAt = device.sentAt, let received = device.receivedAt {
            segments.append(Segment(name: "transit", durationMs: Self.ms(sentAt, received)))
        }
        if let timings = device.timings {
            segments += [
                Segment(name: "parse", durationMs: timings.parseMs), Segment(name: "fetch", durationMs: timings.fetchMs),
                Segment(name: "load", durationMs: timings.loadMs), Segment(name: "apply", durationMs: timings.applyMs),
            ]
        }
        if let applied = device.appliedAt { segments.append(Segment(name: "ack", durationMs: Self.ms(applied, device.ackedAt))) }
        return segments
    }

    /// Save seen (or queued, without a save) → applied on `device`.
    public func saveToAppliedMs(_ device: Device) -> Double? {
        guard let applied = device.appliedAt else { return nil }
        return Self.ms(savedAt ?? queuedAt, applied)
    }

    /// Save seen (or queued) → job finished.
    public var saveToFinishedMs: Double? {
        finishedAt.map { Self.ms(savedAt ?? queuedAt, $0) }
    }

    /// Records (or replaces) one device's ack.
    public mutating func record(_ device: Device) {
        devices.removeAll { $0.device == device.device }
        devices.append(device)
    }

    /// `watch 2, queue 0, job 412, …` for one log line.
    public static func summary(_ segments: [Segment]) -> String {
        segments.map { "\($0.name) \(wholeMilliseconds($0.durationMs))" }.joined(separator: ", ")
    }

    /// `412` for 411.6; a device's own figures can be anything a JSON number holds (1e308), which
    /// `Int(_:)` would trap on, so those are printed as they are.
    static func wholeMilliseconds(_ value: Double) -> String {
        let rounded = value.rounded()
        guard let whole = Int(exactly: rounded) else { return "\(value)" }
        return String(whole)
    }

    static func ms(_ from: Date, _ to: Date) -> Double {
        (to.timeIntervalSince(from) * 1000 * 10).rounded() / 10
    }
}
