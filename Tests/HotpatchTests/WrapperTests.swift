import Foundation
import Testing
@testable import Hotpatch

@Suite struct WrapperResponseFileTests {
    @Test func rustcArgfileIsOneArgumentPerLine() throws {
        let scratch = try CaptureScratch()
        try scratch.write("args.txt", "--crate-name\nmy app\r\n--cfg\nfeature=\"a b\"\n")
        let expanded = try ResponseFile.expandRustcArguments(["-vV", "@args.txt", "src/main.rs"], workingDirectory: scratch.url)
        #expect(expanded == ["-vV", "--crate-name", "my app", "--cfg", "feature=\"a b\"", "src/main.rs"])
    }

    @Test func rustcArgfileThatIsMissingIsAnError() throws {
        let scratch = try CaptureScratch()
        #expect(throws: ResponseFileError.self) {
            try ResponseFile.expandRustcArguments(["@nope.txt"], workingDirectory: scratch.url)
        }
    }

    @Test func gccResponseFileQuotingAndEscapes() {
        let words = ResponseFile.splitGCCResponseFile("-o\n/tmp/a\\ b/out\n'-Wl,x y' \"q\\\"uote\"  plain\\\\slash\n\n")
        #expect(words == ["-o", "/tmp/a b/out", "-Wl,x y", "q\"uote", "plain\\slash"])
    }

    @Test func linkerResponseFilesNestAndUnreadableOnesStay() throws {
        let scratch = try CaptureScratch()
        try scratch.write("inner.rsp", "-lfoo -L/x\\ y\n")
        try scratch.write("outer.rsp", "-m64 @inner.rsp\n-o out\n")
        let expanded = try ResponseFile.expandLinkerArguments(["@outer.rsp", "@missing.rsp", "-pie"], workingDirectory: scratch.url)
        #expect(expanded == ["-m64", "-lfoo", "-L/x y", "-o", "out", "@missing.rsp", "-pie"])
    }

    @Test func selfIncludingResponseFileIsReportedNotLoopedForever() throws {
        let scratch = try CaptureScratch()
        try scratch.write("loop.rsp", "@loop.rsp\n")
        #expect(throws: ResponseFileError.self) {
            try ResponseFile.expandLinkerArguments(["@loop.rsp"], workingDirectory: scratch.url)
        }
    }

    /// rustc writes its own linker response files for long command lines; expanding one must give
    /// back exactly the arguments rustc meant.
    @Test func rustcWrittenLinkerArgfileRoundTrips() throws {
        let scratch = try CaptureScratch()
        // rustc's GNU-style escaping: `\` and space are backslash-escaped, one argument per line.
        let original = ["/tmp/dir with space/a.o", "-Wl,--as-needed", "C:\\odd\\path"]
        let escaped = original.map { $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: " ", with: "\\ ") }
        try scratch.write("linker-arguments", escaped.joined(separator: "\n") + "\n")
        #expect(try ResponseFile.expandLinkerArguments(["@linker-arguments"], workingDirectory: scratch.url) == original)
    }
}

@Suite struct WrapperRustcCaptureTests {
    @Test func parsesCargoStyleInvocation() throws {
        let env = ["CARGO_PRIMARY_PACKAGE": "1", "CARGO_PKG_NAME": "app"]
        let capture = try CapturedRustcInvocation(rustc: "/rust/bin/rustc", arguments: cargoStyleBinArguments, workingDirectory: "/proj", environment: env)
        #expect(capture.crateName == "app")
        #expect(capture.crateTypes == ["bin"])
        #expect(capture.sourcePath == "src/main.rs")
        #expect(capture.outDir == "/proj/target/debug/deps")
        #expect(capture.extraFilename == "-609f57ec79b3927d")
        #expect(capture.metadata == "7cc745fd54fc02f2")
        #expect(capture.edition == "2021")
        #expect(capture.target == nil)
        #expect(capture.isPrimary)
        #expect(capture.depInfoPath == "/proj/target/debug/deps/app-609f57ec79b3927d.d")
        #expect(capture.captureFilename == "app-bin.json")
        #expect(capture.isBinary && !capture.isBuildScript)
    }

    @Test func attachedAndLongSpellingsParseTheSame() throws {
        let args = ["--crate-name=lib_x", "--crate-type=rlib,cdylib", "-Cmetadata=abc", "--codegen", "extra-filename=-abc",
                    "--out-dir=out", "--target", "aarch64-linux-android", "--emit", "link,dep-info", "lib.rs"]
        let capture = try CapturedRustcInvocation(rustc: "rustc", arguments: args, workingDirectory: "/w", environment: [:])
        #expect(capture.crateTypes == ["rlib", "cdylib"])
        #expect(capture.metadata == "abc")
        #expect(capture.extraFilename == "-abc")
        #expect(capture.outDir == "/w/out")
        #expect(capture.target == "aarch64-linux-android")
        #expect(capture.depInfoPath == "/w/out/lib_x-abc.d")
        #expect(capture.captureFilename == "lib_x-cdylib,rlib.json")
        #expect(!capture.isPrimary)
    }

    @Test(arguments: [
        (["-vV"], false),
        (["-", "--crate-name", "___", "--print=file-names", "--crate-type", "bin"], false),
        (["--crate-name", "___", "--print", "cfg"], false),
        (cargoStyleBinArguments, true),
    ])
    func onlyCompilationsAreRecorded(arguments: [String], recorded: Bool) {
        #expect(CapturedRustcInvocation.isCompilation(arguments) == recorded)
    }

    @Test func recordRustcWritesCaptureOnlyForCompilations() throws {
        let scratch = try CaptureScratch()
        try CapturedRustcInvocation.make(rustc: "rustc", arguments: ["-vV"], environment: [:], captureDirectory: scratch.url)
        #expect(!FileManager.default.fileExists(atPath: scratch.path("rustc")))
        try CapturedRustcInvocation.make(rustc: "/r/rustc", arguments: cargoStyleBinArguments, environment: ["CARGO_PRIMARY_PACKAGE": "1"], captureDirectory: scratch.url)
        let file = scratch.url.appendingPathComponent("rustc/app-bin.json")
        let capture = try JSONFile.read(CapturedRustcInvocation.self, from: file)
        #expect(capture.rustc == "/r/rustc")
        #expect(capture.arguments == cargoStyleBinArguments)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600, "captures hold the environment; keep them private")
    }

    @Test func commandLineKeepsSpellingForUnknownOptions() {
        let tokens = ["-Zunstable-options", "--test", "-O", "-C", "opt-level=3", "x.rs", "-Lnative=/l"]
        let line = RustcCommandLine(tokens)
        #expect(line.tokens == tokens)
        #expect(line.codegen("opt-level") == "3")
        #expect(line.positionals == ["x.rs"])
        #expect(line.value(of: "-L") == "native=/l")
    }
}

@Suite struct WrapperLinkerCaptureTests {
    @Test(arguments: [
        (["-m64", "a.o", "-o", "/out/app-1"], "/out/app-1"),
        (["-oout/bin", "a.o"], "/cwd/out/bin"),
        (["-o", "first", "-o", "second"], "/cwd/second"),
        (["a.o"], nil),
    ] as [([String], String?)])
    func outputPath(arguments: [String], expected: String?) {
        let capture = CapturedLinkerInvocation(linker: "cc", arguments: arguments, extraArguments: [], workingDirectory: "/cwd")
        #expect(capture.outputPath == expected)
    }

    @Test func recordLinkerNumbersCapturesAndExpandsResponseFiles() throws {
        let scratch = try CaptureScratch()
        try scratch.write("link.rsp", "-o\n/tmp/out\\ dir/app\n")
        try CapturedLinkerInvocation.make(linker: "cc", arguments: ["@link.rsp"], extraArguments: ["-Wl,--export-dynamic"], captureDirectory: scratch.url.appendingPathComponent("cap"), workingDirectory: scratch.url.path)
        try CapturedLinkerInvocation.make(linker: "cc", arguments: ["-o", "b"], extraArguments: [], captureDirectory: scratch.url.appendingPathComponent("cap"), workingDirectory: scratch.url.path)
        let first = try JSONFile.read(CapturedLinkerInvocation.self, from: scratch.url.appendingPathComponent("cap/linker/1.json"))
        let second = try JSONFile.read(CapturedLinkerInvocation.self, from: scratch.url.appendingPathComponent("cap/linker/2.json"))
        #expect(first.arguments == ["-o", "/tmp/out dir/app", "-Wl,--export-dynamic"])
        #expect(first.outputPath == "/tmp/out dir/app")
        #expect(first.extraArguments == ["-Wl,--export-dynamic"])
        #expect(second.outputPath == scratch.url.appendingPathComponent("b").path)
    }

    @Test func captureConfigSetsTheTargetLinkerNotRustflags() {
        let config = LinkerCaptureConfig(
            shim: URL(fileURLWithPath: "/w/whisker-linker-shim"),
            realLinker: ResolvedLinker(command: "cc", source: "default"),
            captureDirectory: URL(fileURLWithPath: "/c"),
            targetTriple: "x86_64-unknown-linux-gnu"
        )
        let env = config.cargoEnvironment
        #expect(env["CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER"] == "/w/whisker-linker-shim")
        #expect(env["WHISKER_REAL_LINKER"] == "cc")
        #expect(env["WHISKER_CAPTURE_DIR"] == "/c")
        #expect(env["WHISKER_LINK_ARGS"] == "-Wl,--export-dynamic\u{1F}-Wl,--no-gc-sections")
        #expect(env["WHISKER_LINK_WHOLE_ARCHIVE"] == "1")
        #expect(env["RUSTFLAGS"] == nil)
        #expect(LinkerCaptureConfig.defaultExtraLinkArguments(for: "aarch64-apple-darwin").isEmpty)
        #expect(LinkerCaptureConfig.defaultExtraLinkArguments(for: "aarch64-linux-android") == ["-Wl,--export-dynamic", "-Wl,--no-gc-sections"])
    }

    @Test func wholeArchiveWrapsTheRustLibrariesOnly() {
        let arguments = ["-m64", "a.rcgu.o", "-Wl,-Bstatic", "/d/libx-1.rlib", "/s/libstd-2.rlib", "-Wl,-Bdynamic", "-lc", "-o", "app"]
        #expect(WholeArchiveLink.wrappingRustLibraries(arguments) == [
            "-m64", "a.rcgu.o", "-Wl,-Bstatic", "-Wl,--whole-archive", "/d/libx-1.rlib", "/s/libstd-2.rlib",
            "-Wl,--no-whole-archive", "-Wl,-Bdynamic", "-lc", "-o", "app",
        ])
        #expect(WholeArchiveLink.wrappingRustLibraries(["a.o", "-o", "app"]) == nil)
    }
}

@Suite struct WrapperShimPathsTests {
    @Test func overrideDirectoryMustHoldBothShims() throws {
        let scratch = try CaptureScratch()
        #expect(throws: ShimPathsError.self) { try ShimPaths.make(environment: ["WHISKER_SHIM_DIR": scratch.url.path]) }
        try scratch.write("whisker-rustc-shim", "#!/bin/sh\n", executable: true)
        #expect(throws: ShimPathsError.self) { try ShimPaths.make(environment: ["WHISKER_SHIM_DIR": scratch.url.path]) }
        try scratch.write("whisker-linker-shim", "#!/bin/sh\n", executable: true)
        let paths = try ShimPaths.make(environment: ["WHISKER_SHIM_DIR": scratch.url.path])
        #expect(paths.rustcShim.path == scratch.path("whisker-rustc-shim"))
        #expect(paths.linkerShim.path == scratch.path("whisker-linker-shim"))
    }

    @Test func currentExecutableIsARealFile() throws {
        let exe = try #require(ShimPaths.currentExecutable())
        #expect(FileManager.default.isExecutableFile(atPath: exe.path))
    }

    @Test func missingShimErrorSaysHowToFixIt() {
        let error = ShimPathsError.missing(path: "/x/whisker-rustc-shim")
        #expect(error.message.contains("/x/whisker-rustc-shim"))
        #expect(error.hint?.contains("WHISKER_SHIM_DIR") == true)
    }
}
