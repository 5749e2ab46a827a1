import Foundation
import Testing
import Hotpatch

/// `whisker-dev build` and `whisker-dev doctor` as a user runs them.
@Suite(.serialized) struct BuildCommandTests {
    @Test func projectWithoutCargoTomlIsOneClearErrorLine() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-empty-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let result = try runTool(BuiltProducts.whiskerDev, ["build", "--project", empty.path, "--cache-dir", empty.appendingPathComponent("cache").path])
        #expect(result.exitStatus == 1)
        let lines = result.stderrText.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderrText)")
        #expect(lines.first?.hasPrefix("error: no Cargo.toml in \(empty.path)") == true)
        #expect(result.stdoutText.isEmpty || !result.stdoutText.contains("Built"))
    }

    @Test func jsonOutputDescribesTheBuild() throws {
        let project = try BuildTestProject()
        let result = try runTool(BuiltProducts.whiskerDev, ["build", "--project", project.project.path, "--cache-dir", project.cache.path, "--json"])
        #expect(result.exitStatus == 0, "\(result.stderrText)")
        let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let id = try #require(json["id"] as? String)
        #expect(BuildID(id) != nil)
        let binary = try #require(json["binary"] as? String)
        #expect(binary.hasPrefix("/") && FileManager.default.isExecutableFile(atPath: binary))
        #expect(try runTool(binary, []).stdoutText == "hello v1 42 7\n")
        #expect((json["durationMs"] as? Double ?? 0) > 0)
        #expect(json["project"] as? String == project.project.path)
        let phases = try #require(json["phases"] as? [[String: Any]])
        #expect(phases.compactMap { $0["name"] as? String }.contains("cargo"))
        let crates = try #require(json["crates"] as? [[String: Any]])
        // cargo names a library target after the crate (`demo_lib`), a binary after the package.
        #expect(Set(crates.compactMap { $0["name"] as? String }) == ["demo-app", "demo_lib"])
        // The same record is build.json.
        let record = try JSONFile.read(FatBuild.self, from: URL(fileURLWithPath: try #require(json["buildDirectory"] as? String)).appendingPathComponent("build.json"))
        #expect(record.id.rawValue == id)
    }

    @Test func humanOutputShowsPhasesAndCounts() throws {
        let project = try BuildTestProject()
        let result = try runTool(BuiltProducts.whiskerDev, ["build", "--project", project.project.path, "--cache-dir", project.cache.path])
        #expect(result.exitStatus == 0, "\(result.stderrText)")
        let out = result.stdoutText
        #expect(out.contains("cargo"))
        #expect(out.contains("2 crates compiled"))
        #expect(out.contains("Built b"))
        #expect(out.contains("binary   /"))
    }

    @Test func doctorPassesHereAndShowsChecks() throws {
        let result = try runTool(BuiltProducts.whiskerDev, ["doctor"])
        #expect(result.exitStatus == 0, "\(result.stdoutText)")
        for name in ["cargo", "rustc", "C linker", "lld"] {
            #expect(result.stdoutText.contains("✓ \(name):"))
        }
    }

    /// The tests run the debug build: doctor warns about it (`!`, not `✗`) and still passes.
    @Test func doctorWarnsThatThisIsADebugBuild() throws {
        let result = try runTool(BuiltProducts.whiskerDev, ["doctor"])
        #expect(result.exitStatus == 0, "\(result.stdoutText)")
        #if DEBUG
        #expect(result.stdoutText.contains("! whisker-dev build: this is a debug build"), "\(result.stdoutText)")
        #expect(result.stdoutText.contains("fix: swift build -c release"), "\(result.stdoutText)")
        #else
        #expect(result.stdoutText.contains("✓ whisker-dev build: release build"), "\(result.stdoutText)")
        #endif
    }

    @Test func doctorFailsWithFixesWhenToolsAreMissing() throws {
        let env = ["PATH": "/nonexistent", "HOME": "/nonexistent"]
        let result = try runTool(BuiltProducts.whiskerDev, ["doctor"], environment: env)
        #expect(result.exitStatus == 1)
        #expect(result.stdoutText.contains("✗ cargo"))
        #expect(result.stdoutText.contains("fix: install Rust with rustup"))
    }
}
