import Foundation
import Hotpatch
import Testing

/// `whisker-dev symbols` as a user runs it: output formats, filters, errors, concurrent caching.
@Suite(.serialized)
struct SymbolTableCLITests {
    /// The built `whisker-dev`: next to the test bundle (SwiftPM puts products and the test
    /// bundle in one directory), else in the package's `.build/debug`.
    static func whiskerDev() throws -> String {
        var candidates: [URL] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        // On macOS the runner lives inside `X.xctest/Contents/MacOS`; walk up to the products directory.
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("whisker-dev"))
            directory = directory.deletingLastPathComponent()
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("whisker-dev"))
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/whisker-dev"))
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return try #require(found?.path, "whisker-dev not built; run `swift build --build-tests` (looked in \(candidates.map(\.path)))")
    }

    private func run(_ arguments: [String], cache: URL) throws -> Tools.Output {
        var environment = ProcessInfo.processInfo.environment
        environment["WHISKER_CACHE_DIR"] = cache.path
        return try Tools.run(try Self.whiskerDev(), arguments, environment: environment)
    }

    @Test("symbols --json prints one array that matches the table and llvm-nm")
    func jsonOutput() throws {
        let directory = try Tools.temporaryDirectory("cli-json")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = try RustProgram.build(counterLikeRustSource, name: "counter", in: directory)
        let cache = directory.appendingPathComponent("cache")
        let output = try run(["symbols", binary, "--json"], cache: cache)
        #expect(output.status == 0, "\(output.stderr)")
        let array = try #require(try JSONSerialization.jsonObject(with: output.stdoutBytes) as? [[String: Any]])
        let table = try SymbolTable.make(contentsOf: binary)
        #expect(array.count == table.count)
        for (object, entry) in zip(array, table) {
            #expect(Set(object.keys) == ["name", "address", "size", "kind", "binding", "defined", "section"])
            #expect(object["name"] as? String == entry.name)
            #expect(object["address"] as? String == "0x" + String(entry.address, radix: 16))
            #expect((object["size"] as? NSNumber)?.uint64Value == entry.size)
            #expect(object["kind"] as? String == entry.kind.rawValue)
            #expect(object["binding"] as? String == entry.binding.rawValue)
            #expect(object["defined"] as? Bool == entry.defined)
            #expect(object["section"] as? String == entry.section)
        }
        // Defined functions and data agree with llvm-nm.
        let nmDefined = Set(try LLVMNm.symbols(binary).filter(\.isDefined).map { "\($0.name) \($0.value)" })
        let ours = Set(array.filter { $0["defined"] as? Bool == true && !["file", "section"].contains($0["kind"] as? String ?? "") }
            .compactMap { object -> String? in
                guard let name = object["name"] as? String, let address = (object["address"] as? String)?.dropFirst(2),
                      let value = UInt64(address, radix: 16) else { return nil }
                return "\(name) \(value)"
            })
        #expect(ours == nmDefined)

        // The second run hits the cache and prints the same bytes.
        let again = try run(["symbols", binary, "--json"], cache: cache)
        #expect(again.stdout == output.stdout)
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("symbols").path)
        #expect(entries.count == 1 && entries[0].hasSuffix(".wsym"))
    }

    @Test("--defined-only, --match and the readable table")
    func filtersAndTable() throws {
        let directory = try Tools.temporaryDirectory("cli-table")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = try RustProgram.build(counterLikeRustSource, name: "counter", in: directory)
        let cache = directory.appendingPathComponent("cache")
        let defined = try run(["symbols", binary, "--json", "--defined-only"], cache: cache)
        let definedArray = try #require(try JSONSerialization.jsonObject(with: defined.stdoutBytes) as? [[String: Any]])
        #expect(!definedArray.isEmpty && definedArray.allSatisfy { $0["defined"] as? Bool == true })
        #expect(definedArray.count == (try SymbolTable.make(contentsOf: binary)).definedCount)

        // --match looks at demangled names too: `counter::step` is `_ZN7counter4step17h…E`.
        let matched = try run(["symbols", binary, "--match", "counter::step"], cache: cache)
        #expect(matched.status == 0)
        let lines = matched.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("ADDRESS") == true)
        let row = try #require(lines.first { $0.hasSuffix(" counter::step") })
        #expect(row.contains("function") && row.contains("local") && row.contains(".text") && row.hasPrefix("0x"))
        #expect(lines.last?.hasPrefix("1 symbols (1 defined) of") == true)

        let undefinedRows = try run(["symbols", binary, "--match", "memcpy"], cache: cache).stdout
        #expect(undefinedRows.split(separator: "\n").contains { $0.hasPrefix("undefined") })
    }

    @Test("unreadable or corrupt input: exit 1 and one line on stderr saying what and where", arguments: [
        "truncated", "text", "missing", "directory",
    ])
    func badInput(kind: String) throws {
        let directory = try Tools.temporaryDirectory("cli-bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = try RustProgram.build("fn main() {}", name: "tiny", in: directory)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: binary))
        let input = directory.appendingPathComponent("input").path
        switch kind {
        case "truncated": try bytes.prefix(bytes.count - 1000).write(to: URL(fileURLWithPath: input))
        case "text": try "hello".write(toFile: input, atomically: true, encoding: .utf8)
        case "missing": break
        default: try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        }
        let output = try run(["symbols", input, "--json"], cache: directory.appendingPathComponent("cache"))
        #expect(output.status == 1)
        #expect(output.stdout.isEmpty)
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(output.stderr)")
        #expect(lines.first?.contains(input) == true)
        if kind == "truncated" { #expect(lines.first?.contains("at offset 0x") == true) }
        #expect(!output.stderr.contains("Usage"))
    }

    @Test("--arch selects the architecture and rejects other names")
    func architectureOption() throws {
        let directory = try Tools.temporaryDirectory("cli-arch")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("m.c")
        try "int only_here(void) { return 4; }".write(to: source, atomically: true, encoding: .utf8)
        let object = directory.appendingPathComponent("m.o").path
        _ = try Tools.runChecked(Tools.clang, ["-c", "--target=arm64-apple-macos13", source.path, "-o", object])
        let cache = directory.appendingPathComponent("cache")
        let ok = try run(["symbols", object, "--arch", "arm64", "--json"], cache: cache)
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("\"_only_here\""))
        let wrong = try run(["symbols", object, "--arch", "x86_64"], cache: cache)
        #expect(wrong.status == 1, "a cached arm64 table must not answer for x86_64")
        #expect(wrong.stderr.split(separator: "\n").count == 1)
        let invalid = try run(["symbols", object, "--arch", "mips"], cache: cache)
        #expect(invalid.status != 0)
    }

    @Test("two processes filling the same cache entry leave one valid file")
    func concurrentProcesses() throws {
        let directory = try Tools.temporaryDirectory("cli-race")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = try RustProgram.build(counterLikeRustSource, name: "counter", in: directory)
        let cache = directory.appendingPathComponent("cache")
        var environment = ProcessInfo.processInfo.environment
        environment["WHISKER_CACHE_DIR"] = cache.path
        let tool = try Self.whiskerDev()
        let processes = (0..<4).map { _ -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = ["symbols", binary, "--json"]
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            return process
        }
        for process in processes { try process.run() }
        for process in processes { process.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 })
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("symbols").path)
        #expect(entries.count == 1, "\(entries)")
        let outcome = try CachedSymbolTable.make(forBinaryAt: binary, architecture: nil, cache: HotpatchModuleCache(directory: cache.path)).outcome
        #expect(outcome == .hit)
    }
}
