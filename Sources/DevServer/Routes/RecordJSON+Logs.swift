import HTTP

/// Device logs as the API shows them (`DeviceLogPage`, `DeviceLogLine` in the spec).
extension RecordJSON {
    /// One kept line: `{"seq","stream","text","time"?,"receivedAt"}`.
    static func deviceLogLine(_ entry: DeviceLogEntry) -> JSONValue {
        var object: JSONObject = [
            "seq": .int(Int64(entry.seq)), "stream": .string(entry.stream.rawValue), "text": .string(entry.text),
            "receivedAt": preciseTimestamp(entry.receivedAt),
        ]
        if let time = entry.time { object["time"] = preciseTimestamp(time) }
        return .object(object)
    }

    /// `GET /api/devices/{id}/logs`: the lines after `since`, and what a client resumes from.
    static func deviceLogs(_ page: DeviceLogPage, deviceId: String) -> JSONValue {
        [
            "device": .string(deviceId), "lines": .array(page.lines.map(deviceLogLine)),
            "lastSeq": .int(Int64(page.lastSeq)), "missed": .int(Int64(page.missed)), "dropped": .int(Int64(page.dropped)),
        ]
    }
}
