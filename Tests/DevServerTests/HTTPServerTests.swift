import DevServer
import HTTP
import Foundation
import Testing

/// The HTTP layer against a real libmicrohttpd server on a free port, through raw sockets.
@Suite struct HTTPServerTests {
    @Test func portZeroPicksDistinctFreePortsAndHealthzAnswers() throws {
        try withTestApp { first, _ in
            try withTestApp { second, _ in
                #expect(first.port != 0)
                #expect(second.port != 0)
                #expect(first.port != second.port)
                let response = try TestHTTPClient.get(port: second.port, "/healthz")
                #expect(response.status == 200)
                #expect(response.header("Content-Type") == "application/json")
                #expect(try response.json() == ["status": "ok"])
            }
            #expect(try TestHTTPClient.get(port: first.port, "/healthz").status == 200)
        }
    }

    @Test func appAndServerAreReleasedAfterShutdown() throws {
        weak var server: HTTPServer?
        weak var events: EventHub?
        do {
            let app = DevServerApp(configuration: DevServerConfiguration(port: 0))
            try app.start()
            server = app.server
            events = app.events
            #expect(try TestHTTPClient.get(port: app.port, "/api/status").status == 200)
            app.shutdown()
        }
        #expect(server == nil)
        #expect(events == nil)
    }

    @Test func statusMergesTheProviderWithServerInfo() throws {
        try withTestApp { app, _ in
            let json = try TestHTTPClient.get(port: app.port, "/api/status").json()
            #expect(json["project"]?["name"] == "test")
            #expect(json["server"]?["url"]?.stringValue == app.url)
            #expect(json["server"]?["lan"] == false)
            #expect(json["server"]?["uptimeMs"]?.intValue.map { $0 >= 0 } == true)
        }
    }

    @Test func unknownRouteIsA404JSONError() throws {
        try withTestApp { app, _ in
            let response = try TestHTTPClient.get(port: app.port, "/api/nope/42")
            #expect(response.status == 404)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.errorCode == "not_found")
            let error = try #require(try response.json()["error"])
            #expect(error["message"]?.stringValue?.contains("/api/nope/42") == true)
            #expect(error["hint"]?.stringValue == "see openapi/openapi.yaml for the endpoints")
        }
    }

    @Test func wrongMethodIsA405WithAllow() throws {
        try withTestApp { app, _ in
            let response = try TestHTTPClient.request(port: app.port, "DELETE", "/api/test/echo")
            #expect(response.status == 405)
            #expect(response.header("Allow") == "POST")
            #expect(response.errorCode == "method_not_allowed")

            let onGetRoute = try TestHTTPClient.request(port: app.port, "POST", "/healthz", body: [])
            #expect(onGetRoute.status == 405)
            #expect(onGetRoute.header("Allow") == "GET, HEAD")
        }
    }

    @Test func headIsServedByGetRoutesWithoutABody() throws {
        try withTestApp { app, _ in
            let response = try TestHTTPClient.request(port: app.port, "HEAD", "/healthz")
            #expect(response.status == 200)
            #expect(response.body.isEmpty)
        }
    }

    @Test func validJSONBodyReachesTheHandlerWithTypedFields() throws {
        try withTestApp { app, _ in
            let response = try TestHTTPClient.post(port: app.port, "/api/test/echo", json: #"{"pid": 4242, "name": "counter"}"#)
            #expect(response.status == 201)
            #expect(try response.json() == ["pid": 4242, "name": "counter", "bytes": 32])
        }
    }

    @Test(arguments: [
        (#"{"pid": 42,"#, "malformed_json"),
        (#"{"pid": 1, "pid": 2}"#, "malformed_json"),
        ("", "malformed_json"),
        (#"[1, 2]"#, "invalid_field"),
        (#"{"name": "x"}"#, "missing_field"),
        (#"{"pid": "42"}"#, "invalid_field"),
        (#"{"pid": 99999999999}"#, "invalid_field"),
        (#"{"pid": 1, "name": 7}"#, "invalid_field"),
    ])
    func badBodiesAre400WithAnActionableMessage(body: String, code: String) throws {
        try withTestApp { app, _ in
            let response = try TestHTTPClient.post(port: app.port, "/api/test/echo", json: body)
            #expect(response.status == 400)
            #expect(response.errorCode == code)
            // The server stays up after each bad request.
            #expect(try TestHTTPClient.get(port: app.port, "/healthz").status == 200)
        }
    }

    @Test func malformedJSONMessageNamesLineAndColumn() throws {
        try withTestApp { app, _ in
            let response = try TestHTTPClient.post(port: app.port, "/api/test/echo", json: "{\n  \"pid\": 1,\n  oops\n}")
            #expect(response.status == 400)
            #expect(response.errorMessage?.contains("line 3") == true, "\(response.text)")
        }
    }

    @Test func wrongFieldTypeSaysWhichFieldAndWhatItMustBe() throws {
        try withTestApp { app, _ in
            let response = try TestHTTPClient.post(port: app.port, "/api/test/echo", json: #"{"pid": "42"}"#)
            #expect(response.errorMessage == "field 'pid' must be an integer, got a string")
        }
    }

    @Test func invalidUTF8BodyIsA400() throws {
        try withTestApp { app, _ in
            let body: [UInt8] = Array(#"{"pid": 1, "name": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
            let response = try TestHTTPClient.request(port: app.port, "POST", "/api/test/echo", body: body)
            #expect(response.status == 400)
            #expect(response.errorCode == "malformed_json")
        }
    }

    @Test func bodyOfExactlyTheLimitIsAcceptedOneMoreByteIs413() throws {
        try withTestApp { app, _ in
            let prefix = Array(#"{"pid": 1, "name": ""#.utf8)
            let suffix = Array(#""}"#.utf8)
            let filler = [UInt8](repeating: UInt8(ascii: "a"), count: (1 << 20) - prefix.count - suffix.count)
            let atLimit = prefix + filler + suffix
            #expect(atLimit.count == 1 << 20)
            let accepted = try TestHTTPClient.request(port: app.port, "POST", "/api/test/echo", body: atLimit)
            #expect(accepted.status == 201)
            #expect(try accepted.json()["bytes"] == JSONValue(1 << 20))

            let over = prefix + filler + [UInt8(ascii: "a")] + suffix
            let rejected = try TestHTTPClient.request(port: app.port, "POST", "/api/test/echo", body: over)
            #expect(rejected.status == 413)
            #expect(rejected.errorCode == "body_too_large")
            #expect(try TestHTTPClient.get(port: app.port, "/healthz").status == 200)
        }
    }

    @Test func oversizedBodyAnnouncedWithExpectContinueIsRejectedBeforeItIsSent() throws {
        try withTestApp { app, _ in
            let body = [UInt8](repeating: 0x20, count: 5 << 20)
            let response = try TestHTTPClient.request(
                port: app.port, "POST", "/api/test/echo",
                headers: [("Expect", "100-continue")],
                body: body
            )
            #expect(response.status == 413)
            #expect(response.errorCode == "body_too_large")
        }
    }

    @Test func handlerErrorsOfUnknownTypeBecome500() throws {
        try withTestApp { app, _ in
            let response = try TestHTTPClient.get(port: app.port, "/api/test/crash")
            #expect(response.status == 500)
            #expect(response.errorCode == "internal_error")
            #expect(try TestHTTPClient.get(port: app.port, "/healthz").status == 200)
        }
    }

    @Test func queryParametersAreDecodedAndValidated() throws {
        try withTestApp { app, _ in
            let ok = try TestHTTPClient.get(port: app.port, "/api/test/query?since=%31%32&wait")
            #expect(try ok.json() == ["since": 12, "wait": true])
            let bad = try TestHTTPClient.get(port: app.port, "/api/test/query?since=abc")
            #expect(bad.status == 400)
            #expect(bad.errorMessage == "query parameter 'since' must be an integer, got 'abc'")
        }
    }
}
