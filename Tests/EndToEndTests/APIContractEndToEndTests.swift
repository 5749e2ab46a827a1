import Foundation
import Hotpatch
import Testing

/// `openapi/openapi.yaml` held against a real server: schemathesis 4 (`scripts/setup.sh` installs
/// it from PyPI) runs every check (`--checks all`) in all its phases — examples, coverage,
/// fuzzing and the stateful phase that follows the spec's links from a build, a patch and a
/// device that exist — against `whisker-dev serve` on a copy of `examples/counter`, and any
/// finding fails the test with schemathesis's report of it.
@Suite(.serialized) struct APIContractEndToEndTests {
    /// Test cases per operation and phase: enough for each check to see the edges of every
    /// schema, few enough that the run takes a few minutes on 2 cores.
    static let maxExamples = ProcessInfo.processInfo.environment["WHISKER_SCHEMATHESIS_EXAMPLES"] ?? "10"
    /// Fixed, so a finding can be replayed (`--seed`); set another to explore further.
    static let seed = ProcessInfo.processInfo.environment["WHISKER_SCHEMATHESIS_SEED"] ?? "14"

    @Test(.enabled(if: Schemathesis.executable != nil || ProcessInfo.processInfo.environment["CI"] != nil,
                   "needs schemathesis 4 (scripts/setup.sh installs it from PyPI)"),
          .timeLimit(.minutes(30)))
    func schemathesisFindsNothing() throws {
        let executable = try #require(Schemathesis.executable, "schemathesis 4 is not installed: run scripts/setup.sh")
        let workspace = try CounterWorkspace()
        let server = try DevServerProcess(workspace: workspace)
        defer { _ = server.interrupt() }
        let build = try server.waitForBuild()

        // A patch that exists, so the stateful phase's links from the patch list reach a real one
        // (its plan, library, jump table, revert): the save is patched by the watcher.
        try workspace.setMessage(from: "hello from counter", to: "hello from the contract test")
        let patched = try server.waitForPatch(timeout: 120)
        #expect(patched == "succeeded", "the patch before the run: \(patched ?? "none within 120 s")")

        let reports = workspace.root.appendingPathComponent("schemathesis")
        let arguments = [
            "--config-file", BuiltProducts.repositoryRoot.appendingPathComponent("schemathesis.toml").path,
            "run", BuiltProducts.repositoryRoot.appendingPathComponent("openapi/openapi.yaml").path,
            "--url", server.url,
            "--checks", "all",
            "--max-examples", Self.maxExamples,
            "--seed", Self.seed,
            "--workers", "1",
            "--no-color",
            "--generation-database", "none",
            "--report", "junit", "--report-dir", reports.path,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        let result = try CommandRunner.run(Command(executable, arguments, environment: environment, workingDirectory: workspace.root))
        let output = result.stdoutText + result.stderrText
        let summary = output.split(separator: "\n").filter { $0.contains("generated") || $0.hasPrefix("====") }
        print("schemathesis (\(result.duration)): \(summary.joined(separator: " | "))")

        #expect(result.succeeded, "schemathesis found problems (exit \(result.exitStatus)):\n\(Schemathesis.findings(in: output))")
        // A run that tested nothing would pass vacuously.
        #expect(Schemathesis.generatedCases(in: output) ?? 0 > 500, "\(output.suffix(2000))")
        #expect(output.contains("Stateful"), "the stateful phase did not run: \(output.suffix(2000))")

        // The server stood it: still up, and the build and patch from before the run still served.
        let health = try server.request("GET", "/healthz")
        #expect(health.status == 200)
        let kept = try server.request("GET", "/api/builds/\(build.id)")
        #expect(kept.json?["state"] as? String == "succeeded", "\(kept.text)")
        let library = try server.request("GET", "/api/patches/1/library")
        #expect(library.status == 200 && !library.body.isEmpty, "\(library.status)")
    }
}

extension DevServerProcess {
    /// Waits until `GET /api/patches` lists a finished patch; its state, or nil after `timeout`.
    func waitForPatch(timeout: TimeInterval) throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let patches = try request("GET", "/api/patches").json?["patches"] as? [[String: Any]] ?? []
            if let state = patches.last?["state"] as? String, ["succeeded", "failed", "cancelled"].contains(state) { return state }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return nil
    }
}

/// Where schemathesis is and how to read its report.
enum Schemathesis {
    /// A `schemathesis` 4.x on `PATH`, or in the venv `scripts/setup.sh` makes when the system's
    /// python refuses pip installs.
    static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"] ?? NSHomeDirectory() + "/.cache"
        let directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ["\(cache)/whisker-hotpatch/schemathesis-venv/bin"]
        for directory in directories {
            let candidate = directory + "/schemathesis"
            guard FileManager.default.isExecutableFile(atPath: candidate),
                  let version = try? CommandRunner.run(Command(candidate, ["--version"])), version.succeeded,
                  version.stdoutText.contains("version 4.")
            else { continue }
            return candidate
        }
        return nil
    }()

    /// `1056 generated, …` in the summary.
    static func generatedCases(in output: String) -> Int? {
        for line in output.split(separator: "\n") where line.contains(" generated") {
            let words = line.split(separator: " ")
            if let index = words.firstIndex(where: { $0.hasPrefix("generated") }), index > 0 {
                return Int(words[index - 1])
            }
        }
        return nil
    }

    /// The FAILURES and ERRORS sections and the summary, without the banner.
    static func findings(in output: String) -> String {
        guard let start = output.range(of: "= ERRORS =") ?? output.range(of: "= FAILURES =") else {
            return String(output.suffix(6000))
        }
        return String(output[start.lowerBound...].prefix(20000))
    }
}
