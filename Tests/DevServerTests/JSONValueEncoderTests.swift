import DevServer
import Foundation
import Testing

/// `Encodable` records to `JSONValue`, checked against Foundation's `JSONEncoder`.
@Suite struct JSONValueEncoderTests {
    enum Kind: String, Codable { case build, patch }

    struct Phase: Codable, Equatable {
        var name: String
        var durationMs: Int
    }

    struct Record: Encodable {
        var id: String
        var kind: Kind
        var patchId: UInt32
        var ratio: Double
        var ok: Bool
        var missing: String?
        var phases: [Phase]
        var tags: Set<String>
        var counts: [String: Int]
        var createdAt: Date
        var raw: JSONValue
        var matrix: [[Int8]]
    }

    static let record = Record(
        id: "b20261125-061500-a1b2c3",
        kind: .patch,
        patchId: 3,
        ratio: 0.25,
        ok: true,
        missing: nil,
        phases: [Phase(name: "rustc", durationMs: 812), Phase(name: "link", durationMs: 40)],
        tags: ["hot"],
        counts: ["added": 1],
        createdAt: Date(timeIntervalSince1970: 1_795_000_000.5),
        raw: ["lib": "/x.so", "map": [["0x1", "0x2"]]],
        matrix: [[1, -2], []]
    )

    @Test func encodesLikeFoundationAndKeepsDeclarationOrder() throws {
        let ours = try JSONValue(encoding: Self.record)
        let foundation = JSONEncoder()
        foundation.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            var style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
            style.timeZone = TimeZone(identifier: "UTC")!
            try container.encode(date.formatted(style))
        }
        let theirs = try JSONValue.parse(Array(foundation.encode(Self.record)))
        #expect(ours == theirs)
        #expect(ours.objectValue?.keys == ["id", "kind", "patchId", "ratio", "ok", "phases", "tags", "counts", "createdAt", "raw", "matrix"])
        #expect(ours["createdAt"] == "2026-11-18T11:06:40.500Z")
        #expect(ours["missing"] == nil)
    }

    @Test func integersBeyondInt64AreAnErrorNamingThePath() throws {
        struct Address: Encodable { var value: UInt64 }
        struct Holder: Encodable { var list: [Address] }
        #expect(throws: EncodingError.self) {
            try JSONValue(encoding: Holder(list: [Address(value: .max)]))
        }
        do {
            _ = try JSONValue(encoding: Holder(list: [Address(value: 1), Address(value: .max)]))
        } catch let EncodingError.invalidValue(_, context) {
            #expect(context.codingPath.map(\.stringValue) == ["list", "1", "value"])
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(try JSONValue(encoding: Address(value: UInt64(Int64.max))) == ["value": .int(.max)])
    }

    @Test func responseFromAnEncodableIsJSON() throws {
        let response = try Response.json(encoding: Self.record.phases, status: .created)
        #expect(response.status == .created)
        guard case .bytes(let bytes) = response.body else {
            Issue.record("expected bytes")
            return
        }
        #expect(String(decoding: bytes, as: UTF8.self) == #"[{"name":"rustc","durationMs":812},{"name":"link","durationMs":40}]"#)
    }
}

extension JSONValueEncoderTests {
    @Test func jsonValueRoundTripsThroughFoundationCoders() throws {
        let value: JSONValue = ["a": [1, 2.5, "x", nil, true], "b": ["c": [:]]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONValue.parse(Array(data)) == value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }
}
