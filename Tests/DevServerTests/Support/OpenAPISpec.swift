import Foundation

/// The operations (`METHOD /path`) declared in `openapi/openapi.yaml`, read with a small
/// line-based extractor: under the top-level `paths:` key, a 2-space-indented `/…:` line is a
/// path and a 4-space-indented HTTP method under it is an operation. Enough for our own file,
/// which keeps that layout; `openapi-spec-validator` checks the rest.
struct OpenAPISpec {
    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    let path: String
    let operations: Set<String>

    static var defaultPath: String {
        // Tests/DevServerTests/Support/OpenAPISpec.swift → repository root.
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi/openapi.yaml").path
    }

    static func load(_ path: String = defaultPath) throws -> OpenAPISpec {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return OpenAPISpec(path: path, operations: extractOperations(text))
    }

    static func extractOperations(_ yaml: String) -> Set<String> {
        var operations: Set<String> = []
        var inPaths = false
        var currentPath: String?
        for rawLine in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let indent = line.prefix { $0 == " " }.count
            if indent == 0 {
                inPaths = trimmed == "paths:"
                currentPath = nil
                continue
            }
            guard inPaths, trimmed.hasSuffix(":") else { continue }
            let key = String(trimmed.dropLast()).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            if indent == 2 {
                currentPath = key.hasPrefix("/") ? key : nil
            } else if indent == 4, let currentPath, methods.contains(key) {
                operations.insert("\(key.uppercased()) \(currentPath)")
            }
        }
        return operations
    }
}

/// Validates JSON documents against the spec's schemas with Python's `jsonschema` (JSON Schema
/// 2020-12, which OpenAPI 3.1 schemas are), so responses are checked against the contract by an
/// implementation that is not ours.
enum SchemaValidator {
    static var isAvailable: Bool {
        run(script: "import jsonschema, yaml", input: "").status == 0
    }

    /// `nil` when `json` matches `components.schemas.<schema>`, else the validator's message.
    static func problem(_ json: String, schema: String, spec: String = OpenAPISpec.defaultPath) -> String? {
        let script = """
        import json, sys, yaml, jsonschema
        spec = yaml.safe_load(open(sys.argv[1]))
        schema = {"$ref": "#/components/schemas/" + sys.argv[2], "components": spec["components"]}
        try:
            jsonschema.Draft202012Validator(schema).validate(json.load(sys.stdin))
        except jsonschema.ValidationError as error:
            print(error.message, "at", list(error.absolute_path))
            sys.exit(1)
        """
        let result = run(script: script, arguments: [spec, schema], input: json)
        return result.status == 0 ? nil : result.output
    }

    private static func run(script: String, arguments: [String] = [], input: String) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        do {
            try process.run()
        } catch {
            return (-1, "\(error)")
        }
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try? stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
