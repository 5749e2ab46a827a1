import Foundation
import Testing
@testable import Hotpatch

@Suite struct FatBuildLayoutTests {
    @Test func cacheDirectoryPrecedence() {
        let explicit = URL(fileURLWithPath: "/explicit")
        #expect(ProjectLayout.resolveCacheDirectory(explicit: explicit, environment: ["WHISKER_CACHE_DIR": "/w"]).path == "/explicit")
        #expect(ProjectLayout.resolveCacheDirectory(environment: ["WHISKER_CACHE_DIR": "/w", "XDG_CACHE_HOME": "/x"]).path == "/w")
        #expect(ProjectLayout.resolveCacheDirectory(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]).path == "/x/whisker-hotpatch")
        #expect(ProjectLayout.resolveCacheDirectory(environment: ["HOME": "/h"]).path == "/h/.cache/whisker-hotpatch")
    }

    @Test func projectKeyIsNamePlusHashOfRealPath() throws {
        let scratch = try CaptureScratch()
        let real = scratch.url.appendingPathComponent("My App")
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: scratch.url.appendingPathComponent("link"), withDestinationURL: real)
        let cache = URL(fileURLWithPath: "/c")
        let viaReal = ProjectLayout(project: real, cacheDirectory: cache)
        let viaLink = ProjectLayout(project: scratch.url.appendingPathComponent("link"), cacheDirectory: cache)
        #expect(viaReal.key == viaLink.key)
        #expect(viaReal.key.hasPrefix("My App-"))
        #expect(viaReal.key.count == "My App-".count + 12)
        let id = try #require(BuildID("b20261125-061500-a1b2c3"))
        #expect(viaReal.build(id).rustcCaptures.path == "/c/projects/\(viaReal.key)/builds/b20261125-061500-a1b2c3/captures/rustc")
        #expect(viaReal.patch(4).objectDirectory.path == "/c/projects/\(viaReal.key)/patches/4/obj")
        #expect(viaReal.targetDirectory.path == "/c/projects/\(viaReal.key)/target")
    }

    @Test func buildIDsHaveTheDocumentedShape() throws {
        let date = try #require(ISO8601DateFormatter().date(from: "2026-11-25T06:15:00Z"))
        let id = BuildID.make(date: date)
        #expect(id.rawValue.hasPrefix("b20261125-061500-"))
        #expect(BuildID(id.rawValue) == id)
        #expect(BuildID.make(date: date) != id)
        for bad in ["", "b20261125-061500-A1B2C3", "b2026112-061500-a1b2c3", "../../etc", "b20261125-061500-a1b2c3x"] {
            #expect(BuildID(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct FatBuildCargoOutputTests {
    @Test func artifactMessagesBecomeBuiltCrates() throws {
        let line = #"{"reason":"compiler-artifact","package_id":"path+file:///p#my-app@0.1.0","manifest_path":"/p/Cargo.toml","target":{"kind":["bin"],"crate_types":["bin"],"name":"my-app","src_path":"/p/src/main.rs","edition":"2021"},"filenames":["/p/target/debug/my-app"],"executable":"/p/target/debug/my-app","fresh":true}"#
        let message = try #require(CargoMessage.decode(line))
        let crate = try #require(message.builtCrate)
        #expect(crate.name == "my-app")
        #expect(crate.crateName == "my_app")
        #expect(crate.fresh)
        #expect(message.executable == "/p/target/debug/my-app")
        #expect(CargoMessage.decode(#"{"reason":"build-finished","success":true}"#)?.builtCrate == nil)
        #expect(CargoMessage.decode("   Compiling x") == nil)
    }

    @Test func diagnosticsDropProgressChatter() {
        let stderr = """
               Compiling mylib v0.1.0 (/p/mylib)
               Compiling app v0.1.0 (/p)
            error[E0425]: cannot find value `x` in this scope
             --> src/main.rs:1:13
            error: could not compile `app` (bin "app") due to 1 previous error
            """
        let diagnostics = CargoBuild.diagnostics(stderr)
        #expect(!diagnostics.contains("Compiling"))
        #expect(diagnostics.hasPrefix("error[E0425]"))
        #expect(diagnostics.contains("src/main.rs:1:13"))
    }

    @Test func errorsCarryCodesAndHints() {
        let error = FatBuildError.noCargoToml(project: "/x")
        #expect(error.code == "no_cargo_toml")
        #expect(error.description == "no Cargo.toml in /x\nhint: pass the directory that holds the package's Cargo.toml with --project")
    }
}

@Suite(.serialized) struct FatBuildCommandRunnerTests {
    @Test func capturesBothStreamsLineByLineAndTheExitStatus() throws {
        let lines = Locked<[String]>([])
        let result = try CommandRunner.run(
            Command("/bin/sh", ["-c", "echo out1; echo err1 >&2; printf 'partial'; exit 3"]),
            stdoutLine: { line in lines.withLock { $0.append("o:" + line) } },
            stderrLine: { line in lines.withLock { $0.append("e:" + line) } }
        )
        #expect(result.exitStatus == 3 && !result.succeeded)
        #expect(result.stdoutText == "out1\npartial")
        #expect(result.stderrText == "err1\n")
        #expect(Set(lines.withLock { $0 }) == ["o:out1", "o:partial", "e:err1"])
        #expect(result.duration > .zero)
    }

    @Test func largeOutputOnBothStreamsDoesNotDeadlock() throws {
        let result = try CommandRunner.run(Command("/bin/sh", ["-c", "head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2"]))
        #expect(result.stdout.count == 300000 && result.stderr.count == 300000)
    }

    @Test func signalsAreReportedLikeAShell() throws {
        let result = try CommandRunner.run(Command("/bin/sh", ["-c", "kill -KILL $$"]))
        #expect(result.terminatingSignal == 9)
        #expect(result.exitStatus == 137)
    }

    @Test func cancellationStopsTheChild() throws {
        let cancellation = Cancellation()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { cancellation.cancel() }
        let clock = ContinuousClock()
        let start = clock.now
        #expect(throws: CommandError.self) {
            try CommandRunner.run(Command("/bin/sleep", ["30"]), cancellation: cancellation)
        }
        #expect(clock.now - start < .seconds(10), "SIGTERM, then SIGKILL after the grace period")
    }

    @Test func missingToolIsATypedError() {
        #expect {
            try CommandRunner.run(Command("definitely-not-a-tool-xyz", [], environment: ["PATH": "/usr/bin"]))
        } throws: { error in
            (error as? CommandError)?.code == "tool_not_found"
        }
    }
}
