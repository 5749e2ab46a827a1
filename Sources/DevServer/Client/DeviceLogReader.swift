import Foundation
import HTTP

/// What `whisker-dev logs` does against a running server: prints the devices' kept output lines
/// (`GET /api/devices/{id}/logs`) as `<device> <stream> <text>`, and with `follow` goes on with
/// each `device.log` event as it comes, every device's lines in their order. Lines are numbered
/// per device (`seq`), so nothing is printed twice and a gap (a reconnect, a stream that fell
/// behind) is filled from the server's ring with `since=`.
public struct DeviceLogReader: Sendable {
    public let client: HTTPClient
    /// Only this device's lines; every device's when nil.
    public let device: String?

    public init(client: HTTPClient, device: String? = nil) {
        self.client = client
        self.device = device
    }

    /// A reader of the server at `serverURL` (`http://host:port`), sending `token` if given.
    public init(serverURL: String, token: String?, device: String? = nil) throws(HTTPClientError) {
        self.init(client: try HTTPClient(baseURL: serverURL, token: token), device: device)
    }

    /// Prints what the server keeps of each device (or of `device`: an unknown one is an error).
    /// `notice` gets what is not a line (lines the server no longer keeps).
    public func printKept(_ write: (String) -> Void, notice: (String) -> Void = { _ in }) throws(HTTPClientError) {
        var printed: [String: Int] = [:]
        for id in try devices() {
            try catchUp(id, printed: &printed, write, notice)
        }
    }

    /// Prints what is kept, then every new line as it arrives; returns only on an error other than
    /// the server going away (then it reconnects every second, and picks up where it was).
    public func follow(_ write: (String) -> Void, notice: (String) -> Void = { _ in }) throws(HTTPClientError) {
        var printed: [String: Int] = [:]
        var connectedOnce = false
        while true {
            do throws(HTTPClientError) {
                // Subscribe first, then read the rings: a line is in one or the other (or both,
                // and `seq` says so), never in neither.
                let events = try client.openStream("/api/events")
                guard events.status == 200 else {
                    throw try events.finish().error()
                }
                // The first bytes (`retry:` and a blank line) come once the server has subscribed us.
                while let line = try events.readLine(), !line.isEmpty {}
                for id in try devices() {
                    try catchUp(id, printed: &printed, write, notice)
                }
                if connectedOnce { notice("reconnected") }
                connectedOnce = true
                try stream(events, printed: &printed, write, notice)
                notice("the server ended the event stream; reconnecting")
            } catch {
                // Before the first connection, a wrong URL or a server not running is the answer.
                guard connectedOnce, Self.serverAway(error) else { throw error }
                notice("lost the server (\(error.message)); reconnecting")
            }
            Thread.sleep(forTimeInterval: 1)
        }
    }

    private static func serverAway(_ error: HTTPClientError) -> Bool {
        switch error.code {
        case .connectFailed, .io, .timedOut, .status(503): true
        default: false
        }
    }

    /// `device`, or every device the server shows.
    private func devices() throws(HTTPClientError) -> [String] {
        if let device { return [device] }
        let response = try client.get("/api/devices")
        guard response.status == 200 else { throw response.error() }
        let devices = try response.json()["devices"]?.arrayValue ?? []
        return devices.compactMap { $0["id"]?.stringValue }
    }

    /// Prints the device's kept lines after the last one printed.
    private func catchUp(
        _ id: String, printed: inout [String: Int], _ write: (String) -> Void, _ notice: (String) -> Void
    ) throws(HTTPClientError) {
        let since = printed[id] ?? 0
        let response = try client.get("/api/devices/\(HTTPClient.pathSegment(id))/logs?since=\(since)")
        // A device that went away since it was listed has nothing to show.
        if response.status == 404 && device == nil { return }
        guard response.status == 200 else { throw response.error() }
        let page = try response.json()
        if let missed = page["missed"]?.intValue, missed > 0 {
            notice("device \(id): \(missed) lines are no longer kept by the server")
        }
        for line in page["lines"]?.arrayValue ?? [] {
            emit(id, line, printed: &printed, write)
        }
    }

    /// Reads the event stream until it ends, printing `device.log` lines.
    private func stream(
        _ events: HTTPClientStream, printed: inout [String: Int], _ write: (String) -> Void, _ notice: (String) -> Void
    ) throws(HTTPClientError) {
        var name = "message"
        var data = ""
        while let line = try events.readLine() {
            if line.hasPrefix("event:") {
                name = String(line.dropFirst("event:".count)).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("data:") {
                data += String(line.dropFirst("data:".count)).trimmingCharacters(in: .whitespaces)
            } else if line.isEmpty {
                defer { (name, data) = ("message", "") }
                if name == "server.shutdown" { return }
                guard name == "device.log", let event = try? JSONValue.parse(data),
                      let id = event["device"]?.stringValue, device == nil || device == id
                else { continue }
                let lines = event["lines"]?.arrayValue ?? []
                // Lines between the last printed and these were not seen: the ring has them.
                if let first = lines.first?["seq"]?.intValue, Int(first) > (printed[id] ?? 0) + 1 {
                    try catchUp(id, printed: &printed, write, notice)
                }
                for line in lines { emit(id, line, printed: &printed, write) }
            }
        }
    }

    private func emit(_ id: String, _ line: JSONValue, printed: inout [String: Int], _ write: (String) -> Void) {
        guard let seq = line["seq"]?.intValue.map(Int.init), seq > (printed[id] ?? 0) else { return }
        printed[id] = seq
        write("\(id) \(line["stream"]?.stringValue ?? "?") \(line["text"]?.stringValue ?? "")")
    }
}
