/// One event on the SSE stream: `id: <id>\nevent: <name>\ndata: <json>\n\n`.
///
/// The hub does not interpret names or data; the application chooses them (this one's are in
/// `openapi/openapi.yaml`).
public struct ServerEvent: Sendable, Equatable {
    /// Increasing, never reused within a hub; what clients send back as `Last-Event-ID`.
    public let id: UInt64
    public let name: String
    public let data: JSONValue

    public init(id: UInt64, name: String, data: JSONValue) {
        self.id = id
        self.name = name
        self.data = data
    }

    /// The event in SSE wire form. Compact JSON has no raw newlines, so one `data:` line suffices;
    /// a name never contains a newline (it would end the field), which `publish` ensures.
    public var wireBytes: [UInt8] {
        Array("id: \(id)\n".utf8) + Self.wireBytes(name: name, data: data)
    }

    /// Everything after the `id:` line.
    static func wireBytes(name: String, data: JSONValue) -> [UInt8] {
        Array("event: \(name)\ndata: ".utf8) + data.serialized() + Array("\n\n".utf8)
    }
}

/// Decides what one subscriber sees: `nil` skips the event, otherwise the (possibly rewritten)
/// event is sent with the same id. Built per subscription (e.g. from a `?client=ID` query, keeping
/// that client's events and rewriting the ones addressed to it), it runs under the hub's lock and
/// so must be quick and must not call back into the hub or take locks held while publishing.
public typealias EventFilter = @Sendable (ServerEvent) -> ServerEvent?
