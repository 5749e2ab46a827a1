import Foundation
import Testing
import Hotpatch

/// The shim executables as cargo and rustc run them: record, then become the real tool.
@Suite(.serialized) struct BuildShimTests {
    let rustcShim = BuiltProducts.directory.appendingPathComponent("whisker-rustc-shim").path
    let linkerShim = BuiltProducts.directory.appendingPathComponent("whisker-linker-shim").path

    final class Scratch: @unchecked Sendable {
        let url: URL
        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-shim-\(UUID().uuidString.prefix(8))").resolvingSymlinksInPath()
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
        /// An executable shell script standing in for rustc or the linker.
        func tool(_ name: String, _ body: String) throws -> String {
            let path = url.appendingPathComponent(name).path
            try Data("#!/bin/sh\n\(body)\n".utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            return path
        }
        deinit { try? FileManager.default.removeItem(at: url) }
    }

    func environment(_ extra: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
    }

    @Test func rustcShimRecordsAndPassesOutputAndExitStatusThrough() throws {
        let scratch = try Scratch()
        let fakeRustc = try scratch.tool("rustc", "echo \"ran with $*\"; echo diag >&2; exit 3")
        let captures = scratch.url.appendingPathComponent("captures")
        let result = try runTool(rustcShim, [fakeRustc, "--crate-name", "foo", "--crate-type", "lib", "foo.rs"],
                                 environment: environment(["WHISKER_CAPTURE_DIR": captures.path, "CARGO_PRIMARY_PACKAGE": "1"]))
        #expect(result.exitStatus == 3)
        #expect(result.stdoutText == "ran with --crate-name foo --crate-type lib foo.rs\n")
        #expect(result.stderrText == "diag\n")
        let capture = try JSONFile.read(CapturedRustcInvocation.self, from: captures.appendingPathComponent("rustc/foo-lib.json"))
        #expect(capture.rustc == fakeRustc && capture.isPrimary && capture.sourcePath == "foo.rs")
    }

    @Test func rustcShimExpandsArgfilesAndSkipsProbes() throws {
        let scratch = try Scratch()
        let fakeRustc = try scratch.tool("rustc", "exit 0")
        let argfile = scratch.url.appendingPathComponent("args")
        try Data("--crate-name\nbar\n--crate-type\nbin\nmain.rs\n".utf8).write(to: argfile)
        let captures = scratch.url.appendingPathComponent("captures")
        let env = environment(["WHISKER_CAPTURE_DIR": captures.path])
        #expect(try runTool(rustcShim, [fakeRustc, "-vV"], environment: env).exitStatus == 0)
        #expect(try runTool(rustcShim, [fakeRustc, "-", "--crate-name", "___", "--print=cfg"], environment: env).exitStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: captures.appendingPathComponent("rustc").path))
        #expect(try runTool(rustcShim, [fakeRustc, "@\(argfile.path)"], environment: env).succeeded)
        let capture = try JSONFile.read(CapturedRustcInvocation.self, from: captures.appendingPathComponent("rustc/bar-bin.json"))
        #expect(capture.arguments == ["--crate-name", "bar", "--crate-type", "bin", "main.rs"])
    }

    @Test func linkerShimRunsTheRealLinkerWithExtraArgumentsAndRecords() throws {
        let scratch = try Scratch()
        let seen = scratch.url.appendingPathComponent("seen")
        let fakeLinker = try scratch.tool("ld", "printf '%s\\n' \"$@\" > '\(seen.path)'; exit 5")
        let rsp = scratch.url.appendingPathComponent("linker-arguments")
        try Data("a.o\n/tmp/with\\ space.o\n".utf8).write(to: rsp)
        let captures = scratch.url.appendingPathComponent("captures")
        let result = try runTool(linkerShim, ["-m64", "@\(rsp.path)", "-o", "/tmp/out-bin"], environment: environment([
            "WHISKER_CAPTURE_DIR": captures.path, "WHISKER_REAL_LINKER": fakeLinker, "WHISKER_LINK_ARGS": "-Wl,--export-dynamic\u{1F}-Wl,-z,now",
        ]))
        #expect(result.exitStatus == 5)
        // The linker gets rustc's arguments untouched (the response file stays a response file) plus ours.
        let received = try String(contentsOf: seen, encoding: .utf8)
        #expect(received == "-m64\n@\(rsp.path)\n-o\n/tmp/out-bin\n-Wl,--export-dynamic\n-Wl,-z,now\n")
        let capture = try JSONFile.read(CapturedLinkerInvocation.self, from: captures.appendingPathComponent("linker/1.json"))
        #expect(capture.arguments == ["-m64", "a.o", "/tmp/with space.o", "-o", "/tmp/out-bin", "-Wl,--export-dynamic", "-Wl,-z,now"])
        #expect(capture.outputPath == "/tmp/out-bin")
        #expect(capture.linker == fakeLinker)
    }

    @Test func recordingFailureWarnsOnceAndStillRunsTheTool() throws {
        let scratch = try Scratch()
        let fakeRustc = try scratch.tool("rustc", "echo compiled; exit 0")
        let blocker = scratch.url.appendingPathComponent("not-a-directory")
        try Data().write(to: blocker)
        let result = try runTool(rustcShim, [fakeRustc, "--crate-name", "foo", "x.rs"], environment: environment(["WHISKER_CAPTURE_DIR": blocker.path]))
        #expect(result.exitStatus == 0)
        #expect(result.stdoutText == "compiled\n")
        let lines = result.stderrText.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("warning: whisker-rustc-shim could not record"), "\(result.stderrText)")

        let fakeLinker = try scratch.tool("cc", "exit 0")
        let linked = try runTool(linkerShim, ["-o", "x"], environment: environment(["WHISKER_CAPTURE_DIR": blocker.path, "WHISKER_REAL_LINKER": fakeLinker]))
        #expect(linked.exitStatus == 0)
        #expect(linked.stderrText.split(separator: "\n").count == 1 && linked.stderrText.hasPrefix("warning:"))
    }

    /// The fat link wraps every rlib in `--whole-archive`; when that link fails (a crate bundling
    /// C code that only links in part), the shim links exactly as rustc asked and says so.
    @Test func wholeArchiveLinkWrapsTheRlibsAndFallsBackWhenItFails() throws {
        let scratch = try Scratch()
        let calls = scratch.url.appendingPathComponent("calls")
        let body = """
            printf '%s ' "$@" >> '\(calls.path)'; echo >> '\(calls.path)'
            for a in "$@"; do case "$a" in -Wl,--whole-archive) [ -n "$FAIL_WHOLE" ] && { echo 'ld: error: duplicate symbol: foo' >&2; exit 1; };; esac; done
            exit 0
            """
        let fakeLinker = try scratch.tool("cc", body)
        let arguments = ["a.o", "-Wl,-Bstatic", "/d/libx-1.rlib", "/s/libstd-2.rlib", "-Wl,-Bdynamic", "-o", "out"]
        let base = ["WHISKER_REAL_LINKER": fakeLinker, "WHISKER_LINK_WHOLE_ARCHIVE": "1", "WHISKER_CAPTURE_DIR": ""]

        let linked = try runTool(linkerShim, arguments, environment: environment(base))
        #expect(linked.exitStatus == 0 && linked.stderrText.isEmpty, "\(linked.stderrText)")
        #expect(try String(contentsOf: calls, encoding: .utf8)
            == "a.o -Wl,-Bstatic -Wl,--whole-archive /d/libx-1.rlib /s/libstd-2.rlib -Wl,--no-whole-archive -Wl,-Bdynamic -o out \n")

        try FileManager.default.removeItem(at: calls)
        let fellBack = try runTool(linkerShim, arguments, environment: environment(base.merging(["FAIL_WHOLE": "1"]) { $1 }))
        #expect(fellBack.exitStatus == 0)
        let tried = try String(contentsOf: calls, encoding: .utf8).split(separator: "\n")
        #expect(tried.count == 2 && tried[0].contains("--whole-archive") && !tried[1].contains("--whole-archive"), "\(tried)")
        #expect(fellBack.stderrText.contains("linking every Rust library whole failed (ld: error: duplicate symbol: foo)"), "\(fellBack.stderrText)")
    }

    /// Runs `body` on a new thread that blocks SIGUSR1 and SIGTERM, as Swift concurrency's and
    /// Dispatch's worker threads do (where `whisker-dev build` and the server's jobs start cargo).
    func onThreadBlockingSignals<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = ThreadResult<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            var blocked = sigset_t()
            sigemptyset(&blocked)
            sigaddset(&blocked, SIGUSR1)
            sigaddset(&blocked, SIGTERM)
            pthread_sigmask(SIG_BLOCK, &blocked, nil)
            result.value = Result { try body() }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        done.wait()
        return try result.value!.get()
    }

    /// A child inherits its spawning thread's signal mask; CommandRunner must not pass a worker
    /// thread's on (rustc's jobserver helper is stopped with SIGUSR1, cancellation is SIGTERM).
    @Test func commandRunnerStartsChildrenWithNoSignalBlocked() throws {
        let status = try onThreadBlockingSignals {
            // grep itself, not through a shell: shells reset their signal mask at start-up.
            try runTool("grep", ["SigBlk", "/proc/self/status"])
        }
        #expect(status.succeeded)
        #expect(status.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "SigBlk:\t0000000000000000")
    }

    /// What rustc itself sees in a fat build started from a thread that blocks signals: a proc
    /// macro runs inside rustc and bakes rustc's own signal mask and jobserver into the binary. The
    /// binary crate goes through both shims (RUSTC_WRAPPER, then the per-build workspace wrapper).
    /// Blocked SIGUSR1 made every rustc wait up to 1 s at exit for its jobserver helper thread;
    /// a lost jobserver would make rustc's codegen ignore cargo's `-j`.
    @Test func rustcInAFatBuildKeepsTheJobserverAndBlocksNoSignal() throws {
        let project = try BuildTestProject()
        try project.write("Cargo.toml", """
            [package]
            name = "demo-app"
            version = "0.1.0"
            edition = "2021"

            [dependencies]
            probe = { path = "probe" }

            [workspace]
            members = ["probe"]
            """)
        try project.write("build.rs", "fn main() { println!(\"cargo:rerun-if-changed=build.rs\"); }\n")
        try project.write("src/main.rs", """
            fn main() {
                println!("{}", probe::rustc_state!());
            }
            """)
        try project.write("probe/Cargo.toml", """
            [package]
            name = "probe"
            version = "0.1.0"
            edition = "2021"

            [lib]
            proc-macro = true
            """)
        try project.write("probe/src/lib.rs", """
            use proc_macro::TokenStream;

            /// rustc's own state as a string literal: `sigblk=<mask> jobserver=<true|false>`.
            #[proc_macro]
            pub fn rustc_state(_: TokenStream) -> TokenStream {
                let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
                let blocked = status.lines().find_map(|l| l.strip_prefix("SigBlk:")).unwrap_or("?").trim().to_string();
                let flags = std::env::var("CARGO_MAKEFLAGS").unwrap_or_default();
                let auth = flags.split_whitespace().find_map(|w| w.strip_prefix("--jobserver-auth=")).unwrap_or("");
                let jobserver = match auth.strip_prefix("fifo:") {
                    Some(path) => std::path::Path::new(path).exists(),
                    None => !auth.is_empty() && auth.split(',').all(|fd| {
                        std::fs::read_link(format!("/proc/self/fd/{fd}"))
                            .map(|target| target.to_string_lossy().starts_with("pipe:"))
                            .unwrap_or(false)
                    }),
                };
                format!("\\"sigblk={blocked} jobserver={jobserver}\\"").parse().unwrap()
            }
            """)
        let shims = ShimPaths(directory: BuiltProducts.directory)
        let build = try onThreadBlockingSignals {
            try FatBuild.run(project: project.project, cacheDir: project.cache, shims: shims)
        }
        #expect(build.crates.contains { $0.name == "demo-app" && $0.capture != nil }, "the binary crate went through the shims")
        let output = try runTool(build.binary, [])
        #expect(output.stdoutText == "sigblk=0000000000000000 jobserver=true\n", "\(output.stdoutText)")

        // Only the app links the fat-build way: the build script and the proc macro, tools cargo
        // runs on the host, link as rustc asked (no whole-archive, no --export-dynamic).
        let linkerCaptures = URL(fileURLWithPath: build.captureDirectory).appendingPathComponent("linker")
        let links = try FileManager.default.contentsOfDirectory(atPath: linkerCaptures.path).map {
            try JSONFile.read(CapturedLinkerInvocation.self, from: linkerCaptures.appendingPathComponent($0))
        }
        let hostTools = links.filter { ($0.outputPath ?? "").contains("/build/") || ($0.outputPath ?? "").hasSuffix(".so") }
        #expect(hostTools.count == 2, "\(links.map { $0.outputPath ?? "?" })")
        #expect(hostTools.allSatisfy { $0.extraArguments.isEmpty && !$0.arguments.contains("-Wl,--export-dynamic") }, "\(hostTools.map(\.arguments))")
        let app = try #require(links.first { ($0.outputPath ?? "").contains("/deps/demo_app") })
        #expect(app.extraArguments.contains("-Wl,--export-dynamic"), "\(app.extraArguments)")
    }

    @Test func missingToolExitsLikeAShell() throws {
        let result = try runTool(rustcShim, ["/nonexistent/rustc", "-vV"], environment: environment([:]))
        #expect(result.exitStatus == 127)
        #expect(result.stderrText.contains("/nonexistent/rustc"))
    }
}

/// What a thread handed back; the semaphore it signals orders the write before the read.
private final class ThreadResult<T>: @unchecked Sendable {
    var value: Result<T, Error>?
}
