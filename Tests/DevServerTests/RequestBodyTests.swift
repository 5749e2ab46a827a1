@testable import DevServer
import HTTP
import Testing

/// Request bodies read into the session's inputs exactly as `openapi/openapi.yaml` describes
/// them: what the schema allows is read, what it forbids is a 400 naming the member.
@Suite struct RequestBodyTests {
    static func fields(_ json: String) throws -> JSONFields {
        try JSONFields(JSONValue.parse(json))
    }

    @Test func buildRequestsReadEveryMember() throws {
        let request = try BuildRequest(Self.fields(#"{"profile": "release", "package": "p", "bin": "b", "target": "t", "features": ["f"]}"#))
        #expect(request == BuildRequest(profile: "release", package: "p", bin: "b", target: "t", features: ["f"]))
        #expect(try BuildRequest(Self.fields(#"{"profile": null, "features": null}"#)) == BuildRequest())
    }

    @Test(arguments: [
        #"{"profile": "bench"}"#, #"{"bin": ""}"#, #"{"package": ""}"#, #"{"target": ""}"#,
        #"{"features": [{}]}"#, #"{"features": [""]}"#, #"{"features": "f"}"#, #"{"color": "auto"}"#,
    ])
    func buildRequestsRefuseWhatTheSchemaForbids(body: String) throws {
        #expect(throws: (any Error).self) { try BuildRequest(Self.fields(body)) }
    }

    @Test func acksTakeAnIntegerWrittenAsAReal() throws {
        let ack = try DeviceAck(Self.fields(#"{"patch": 3798.0, "status": "applied", "error": null}"#))
        #expect(ack.patch == 3798 && ack.status == .applied && ack.error == nil)
    }

    @Test(arguments: [
        #"{"patch": 0, "status": "applied"}"#, #"{"patch": 2147483648, "status": "applied"}"#,
        #"{"patch": 1.5, "status": "applied"}"#, #"{"patch": 1, "status": "applied", "extra": 1}"#,
        #"{"patch": 1, "status": "applied", "timings": {"totalMs": -1}}"#,
        #"{"patch": 1, "status": "applied", "timings": {"fetch": "carrier pigeon"}}"#,
    ])
    func acksRefuseWhatTheSchemaForbids(body: String) throws {
        #expect(throws: (any Error).self) { try DeviceAck(Self.fields(body)) }
    }

    @Test func registrationsTakeANullBuildId() throws {
        let registration = try DeviceRegistration(Self.fields(
            #"{"name": "app", "pid": 42, "triple": "x86_64-unknown-linux-gnu", "aslrReference": "0x1000", "buildId": null}"#))
        #expect(registration.buildId == nil && registration.pid == 42 && registration.aslrReference == 0x1000)
    }

    @Test(arguments: [
        #"{"name": "app", "pid": 42, "triple": "t", "aslrReference": "0x1", "buildId": null, "restartedFrom": ""}"#,
        #"{"name": "app", "pid": 42, "triple": "t", "aslrReference": "0x1", "buildId": null, "restartedFrom": "x1"}"#,
        #"{"name": "app", "pid": 0, "triple": "t", "aslrReference": "0x1", "buildId": null}"#,
        #"{"name": "app", "pid": 42, "triple": "", "aslrReference": "0x1", "buildId": null}"#,
        #"{"name": "app", "pid": 42, "triple": "t", "aslrReference": "0x+1", "buildId": null}"#,
        #"{"name": "app", "pid": 42, "triple": "t", "aslrReference": "0x1", "buildId": null, "color": 1}"#,
    ])
    func registrationsRefuseWhatTheSchemaForbids(body: String) throws {
        #expect(throws: (any Error).self) { try DeviceRegistration(Self.fields(body)) }
    }

    @Test func logBatchesReadTheirLinesAndRefuseUnknownMembers() throws {
        let batch = try DeviceLogBatch(Self.fields(#"{"lines": [{"stream": "stdout", "text": "hi", "time": 1700000000123.25}], "dropped": null}"#))
        #expect(batch.lines.map(\.text) == ["hi"] && batch.dropped == 0)
        #expect(throws: (any Error).self) { try DeviceLogBatch(Self.fields(#"{"lines": [], "color": 1}"#)) }
        #expect(throws: (any Error).self) { try DeviceLogBatch(Self.fields(#"{"lines": [{"stream": "stdout", "text": "hi", "extra": 1}]}"#)) }
        #expect(throws: (any Error).self) { try DeviceLogBatch(Self.fields(#"{"lines": [], "dropped": 2147483648}"#)) }
        #expect(throws: (any Error).self) { try DeviceLogBatch(Self.fields(#"{"lines": [{"stream": "stdout", "text": "", "time": 253402300800000}]}"#)) }
    }
}
