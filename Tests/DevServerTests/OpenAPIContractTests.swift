import DevServer
import HTTP
import Foundation
import Testing

/// `openapi/openapi.yaml` is the contract: the router and the spec list the same operations,
/// and live responses match the spec's schemas.
@Suite struct OpenAPIContractTests {
    /// Operations in the spec whose handlers are not registered yet. Whoever adds a route
    /// removes it here; the test fails until the two agree exactly.
    static let pendingOperations: Set<String> = []

    /// The router's operations — core, pipeline and static routes — in the spec's spelling
    /// (`{path...}` is OpenAPI's `{path}`).
    static func registeredOperations() throws -> Set<String> {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-openapi-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let events = EventHub()
        defer { events.shutdown() }
        let session = try ProjectSession(
            configuration: SessionConfiguration(project: scratch, cacheDirectory: scratch.appendingPathComponent("cache")),
            events: events)
        defer { session.shutdown() }
        let router = DevServerApp.makeRouter(configuration: DevServerConfiguration(port: 0), routes: [ProjectRoutes(session: session)])
        return Set(router.routeList.map { route in
            "\(route.method) \(route.pattern.replacingOccurrences(of: "...}", with: "}"))"
        })
    }

    @Test func extractorFindsOperationsAndIgnoresOtherKeys() {
        let yaml = """
        openapi: 3.1.0
        paths:
          /a:
            get:
              responses: {}
            parameters: []
            post:
              summary: x
          "/b/{id}":
            delete:
              description: |
                get:
        components:
          schemas:
            get:
              type: object
        """
        #expect(OpenAPISpec.extractOperations(yaml) == ["GET /a", "POST /a", "DELETE /b/{id}"])
    }

    @Test func everyRegisteredRouteIsInTheSpec() throws {
        let spec = try OpenAPISpec.load()
        let missing = try Self.registeredOperations().subtracting(spec.operations)
        #expect(missing.isEmpty, "routes not in openapi.yaml: \(missing.sorted())")
    }

    @Test func everySpecOperationIsRegisteredOrListedAsPending() throws {
        let spec = try OpenAPISpec.load()
        let unimplemented = spec.operations.subtracting(try Self.registeredOperations())
        #expect(unimplemented == Self.pendingOperations, """
            implemented but still listed as pending: \(Self.pendingOperations.subtracting(unimplemented).sorted())
            in the spec, not registered, not listed: \(unimplemented.subtracting(Self.pendingOperations).sorted())
            """)
        #expect(spec.operations.count >= 20)
    }

    @Test(.enabled(if: SchemaValidator.isAvailable, "needs python3 with jsonschema and PyYAML"))
    func specIsValidOpenAPI31() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import sys
            try:
                from openapi_spec_validator import validate
                from openapi_spec_validator.readers import read_from_filename
            except ImportError:
                sys.exit(0)
            spec, _ = read_from_filename(sys.argv[1])
            validate(spec)
            """, OpenAPISpec.defaultPath]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test(.enabled(if: SchemaValidator.isAvailable, "needs python3 with jsonschema and PyYAML"))
    func liveResponsesMatchTheirSchemas() throws {
        try withTestApp(lanToken: "t") { app, _ in
            let status = try TestHTTPClient.get(port: app.port, "/api/status", headers: [("Authorization", "Bearer t")])
            #expect(SchemaValidator.problem(status.text, schema: "Status") == nil)

            let unauthorized = try TestHTTPClient.get(port: app.port, "/api/status")
            #expect(SchemaValidator.problem(unauthorized.text, schema: "Error") == nil)
            let notFound = try TestHTTPClient.get(port: app.port, "/api/nope?token=t")
            #expect(SchemaValidator.problem(notFound.text, schema: "Error") == nil)
            let badJSON = try TestHTTPClient.post(port: app.port, "/api/test/echo?token=t", json: "{,}")
            #expect(SchemaValidator.problem(badJSON.text, schema: "Error") == nil)

            app.events.publish("server.shutdown", ["reason": "not really"])
            let event = try #require(app.events.events(after: 0).last)
            #expect(SchemaValidator.problem(event.data.jsonText, schema: "ServerShutdown") == nil)
        }
    }

    @Test(.enabled(if: SchemaValidator.isAvailable, "needs python3 with jsonschema and PyYAML"))
    func validatorRejectsWhatTheContractForbids() {
        // Guards the guard: a validator that accepts everything would make the test above hollow.
        #expect(SchemaValidator.problem(#"{"error": {"code": "Bad Code", "message": "m"}}"#, schema: "Error") != nil)
        #expect(SchemaValidator.problem(#"{"patch": 1, "status": "maybe"}"#, schema: "Ack") != nil)
        #expect(SchemaValidator.problem(
            #"{"patchId": 1, "buildId": "b20261125-061500-a1b2c3", "lib": "/x.so", "aslrReference": "0x10", "newBase": "library", "map": [["0x1", 2]]}"#,
            schema: "JumpTable"
        ) != nil)
        #expect(SchemaValidator.problem(
            #"{"patchId": 1, "buildId": "b20261125-061500-a1b2c3", "lib": "/x.so", "aslrReference": "0x10", "newBase": "library", "map": [["0x1", "0x2"]]}"#,
            schema: "JumpTable"
        ) == nil)
    }
}
