import Foundation

/// One line of a device's output as the server keeps it: numbered per device from 1, so a client
/// that saw line `seq` asks for what came after (`GET /api/devices/{id}/logs?since=seq`).
public struct DeviceLogEntry: Sendable, Equatable {
    public let seq: Int
    public let stream: DeviceLogLine.Stream
    public let text: String
    /// The device's wall clock when it read the line, if it said.
    public let time: Date?
    /// When the server got it.
    public let receivedAt: Date
}

/// What a client asking for a device's lines after `since` gets.
public struct DeviceLogPage: Sendable, Equatable {
    public let lines: [DeviceLogEntry]
    /// The newest `seq` the device has (0 before its first line): the next `since`.
    public let lastSeq: Int
    /// Lines after `since` the ring no longer holds (pushed out by newer ones).
    public let missed: Int
    /// Lines the device reported it could not deliver (its queue was full or the server away).
    public let dropped: Int
}

/// The last ``capacity`` lines of one device's output. Memory is bounded by the capacity (and
/// the per-line limit of the device's batches); lines are never journaled.
struct DeviceLogRing: Sendable {
    static let defaultCapacity = 2000

    let capacity: Int
    /// Oldest first; trimmed in batches so appending stays O(1) amortized.
    private(set) var entries: [DeviceLogEntry] = []
    private(set) var lastSeq = 0
    private(set) var dropped = 0

    init(capacity: Int = Self.defaultCapacity) {
        self.capacity = max(1, capacity)
    }

    /// Numbers and keeps `lines`; returns them as kept.
    mutating func append(_ lines: [DeviceLogLine], dropped: Int, receivedAt: Date) -> [DeviceLogEntry] {
        self.dropped += max(0, dropped)
        let added = lines.map { line -> DeviceLogEntry in
            lastSeq += 1
            return DeviceLogEntry(seq: lastSeq, stream: line.stream, text: line.text, time: line.time, receivedAt: receivedAt)
        }
        entries.append(contentsOf: added)
        if entries.count >= capacity + max(1, capacity / 4) {
            entries.removeFirst(entries.count - capacity)
        }
        return added
    }

    /// The kept lines after `since`, at most `limit` (the oldest of them).
    func page(since: Int, limit: Int) -> DeviceLogPage {
        // Only the newest `capacity` count as kept, whatever the batch trimming left.
        let kept = entries.suffix(capacity)
        let oldest = kept.first?.seq ?? lastSeq + 1
        let missed = max(0, oldest - since - 1)
        let lines = kept.drop { $0.seq <= since }.prefix(max(0, limit))
        return DeviceLogPage(lines: Array(lines), lastSeq: lastSeq, missed: missed, dropped: dropped)
    }
}
