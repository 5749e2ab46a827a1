import Foundation
import Testing
@testable import Hotpatch

@Suite struct ThinBuildDepInfoTests {
    @Test func rustcDepInfoWithEscapedSpacesAndSeveralTargets() {
        let text = """
            /p/target/debug/deps/app-1.d: src/main.rs src/my\\ module.rs /abs/include\\ dir/data.txt

            /p/target/debug/deps/app-1: src/main.rs src/my\\ module.rs /abs/include\\ dir/data.txt

            src/main.rs:
            src/my\\ module.rs:
            /abs/include\\ dir/data.txt:

            # env-dep:CARGO_PKG_NAME=app
            # env-dep:UNSET_VAR
            """
        let info = DepInfo(parsing: text)
        #expect(info.rules.count == 5)
        #expect(info.rules[0].targets == ["/p/target/debug/deps/app-1.d"])
        #expect(info.files == ["src/main.rs", "src/my module.rs", "/abs/include dir/data.txt"])
        #expect(info.environmentDependencies["CARGO_PKG_NAME"] == .some("app"))
        #expect(info.environmentDependencies["UNSET_VAR"] == .some(nil))
    }

    @Test func continuationsMultipleTargetsAndMakeEscapes() {
        let text = "out.o out.d: a.c \\\n  b\\#1.h \\\n\tc$$d.h\n\nlit\\\\: e.h\n"
        let info = DepInfo(parsing: text)
        #expect(info.rules.first?.targets == ["out.o", "out.d"])
        #expect(info.rules.first?.prerequisites == ["a.c", "b#1.h", "c$d.h"])
        // An even number of trailing backslashes is not a continuation.
        #expect(info.rules.count == 2)
        #expect(info.files == ["a.c", "b#1.h", "c$d.h", "e.h"])
    }

    @Test func windowsDrivePathsAreNotRuleSeparators() {
        let info = DepInfo(parsing: "C:\\t\\app.d: C:\\src\\main.rs D:\\x.rs\n")
        #expect(info.rules.first?.targets == ["C:\\t\\app.d"])
        #expect(info.files == ["C:\\src\\main.rs", "D:\\x.rs"])
    }

    @Test func emptyAndGarbageInputParseToNothing() {
        #expect(DepInfo(parsing: "").files.isEmpty)
        #expect(DepInfo(parsing: "no rule here\n\\\n").files.isEmpty)
    }
}

@Suite struct ThinBuildObjPlanTests {
    func capture(_ arguments: [String] = cargoStyleBinArguments) throws -> CapturedRustcInvocation {
        try CapturedRustcInvocation(rustc: "/rust/bin/rustc", arguments: arguments, workingDirectory: "/proj",
                                    environment: ["CARGO_MAKEFLAGS": "-j --jobserver-fds=6,7", "CARGO_PKG_NAME": "app", "OUT_DIR": "/o", "WHISKER_CAPTURE_DIR": "/c"])
    }

    @Test func rewritesCargoInvocationForAnObject() throws {
        let plan = ObjBuildPlan(invocation: try capture(), outDirectory: URL(fileURLWithPath: "/cache/patches/3/obj"))
        #expect(plan.arguments == [
            "--crate-name", "app", "--edition=2021", "src/main.rs",
            "--crate-type", "bin",
            "-C", "embed-bitcode=no", "-C", "debuginfo=2",
            "--check-cfg", "cfg(docsrs,test)", "--check-cfg", "cfg(feature, values())",
            "-C", "metadata=7cc745fd54fc02f2", "-C", "extra-filename=-609f57ec79b3927d",
            "-L", "dependency=/proj/target/debug/deps",
            "--extern", "mylib=/proj/target/debug/deps/libmylib-2f5e8b232ccb2e87.rlib",
            "--emit=obj,dep-info", "--out-dir", "/cache/patches/3/obj", "-Ccodegen-units=1",
        ])
        #expect(plan.environment["CARGO_MAKEFLAGS"] == nil)
        #expect(plan.environment["WHISKER_CAPTURE_DIR"] == nil)
        #expect(plan.environment["CARGO_PKG_NAME"] == "app")
        #expect(plan.environment["OUT_DIR"] == "/o")
        #expect(plan.rustc == "/rust/bin/rustc")
        #expect(plan.workingDirectory == "/proj")
        #expect(plan.objectFilename == "app-609f57ec79b3927d.o")
        #expect(plan.objectPath.path == "/cache/patches/3/obj/app-609f57ec79b3927d.o")
        #expect(plan.depInfoPath.path == "/cache/patches/3/obj/app-609f57ec79b3927d.d")
    }

    @Test func dropsEverySpellingOfTheReplacedOptions() throws {
        let args = ["--crate-name", "x", "main.rs", "--error-format", "json", "--json", "artifacts", "-Cincremental=/i",
                    "--codegen", "codegen-units=16", "-Ccodegen-units=4", "--emit", "link", "-o", "/out/x", "-Clinker=cc",
                    "-Copt-level=3", "-C", "lto=fat", "--out-dir=/d"]
        let plan = ObjBuildPlan(invocation: try capture(args), outDirectory: URL(fileURLWithPath: "/o"), extraArguments: ["-Cdebuginfo=0"])
        #expect(plan.arguments == ["--crate-name", "x", "main.rs", "-Copt-level=3",
                                   "--emit=obj,dep-info", "--out-dir", "/o", "-Ccodegen-units=1", "-Cdebuginfo=0"])
        #expect(plan.objectFilename == "x.o", "no extra-filename: rustc names the object after the crate")
    }

    @Test func libraryFilenamesAreUniquePerPatch() {
        let names = (0..<50).map { _ in PatchDirectory.libraryFilename(patchId: 7) }
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(name.hasPrefix("libwhisker-patch-7-") && name.hasSuffix(".so"))
            #expect(name.count == "libwhisker-patch-7-".count + 6 + 3)
        }
        #expect(PatchDirectory.libraryFilename(patchId: 1, fileExtension: "dylib").hasSuffix(".dylib"))
        #expect(ObjBuildPlan.objectFilename(crateName: "app", extraFilename: "-abc") == "app-abc.o")
    }
}

@Suite struct ThinBuildChangeDetectionTests {
    func tracked(_ scratch: CaptureScratch, _ files: [String: String], binary: Bool = true, name: String = "app") throws -> TrackedCrate {
        var result: [TrackedFile] = []
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            let url = try scratch.write(path, text)
            result.append(TrackedFile(path: url.path, fingerprint: SourceFingerprint.measure(url.path)))
        }
        return TrackedCrate(crateName: name, crateTypes: [binary ? "bin" : "lib"], captureFile: "\(name)-\(binary ? "bin" : "lib").json", isBinary: binary, files: result)
    }

    func setModificationTime(_ path: String, secondsFromNow: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(secondsFromNow)], ofItemAtPath: path)
    }

    @Test func untouchedFilesAreNotRehashed() throws {
        let scratch = try CaptureScratch()
        let crate = try tracked(scratch, ["src/main.rs": "fn main() {}", "src/a.rs": "pub fn a() {}"])
        let changes = ChangeDetection.detect([crate])
        #expect(changes.isEmpty)
        #expect(changes.filesChecked == 2)
        #expect(changes.filesHashed == 0)
        #expect(changes.current == [crate])
    }

    @Test func touchedWithSameContentIsNotAChange() throws {
        let scratch = try CaptureScratch()
        let crate = try tracked(scratch, ["src/main.rs": "fn main() {}"])
        try setModificationTime(scratch.path("src/main.rs"), secondsFromNow: 5)
        let changes = ChangeDetection.detect([crate])
        #expect(changes.isEmpty)
        #expect(changes.filesHashed == 1)
    }

    @Test func editedAndDeletedFilesAreChanges() throws {
        let scratch = try CaptureScratch()
        let app = try tracked(scratch, ["src/main.rs": "fn main() {}", "src/gone.rs": ""])
        let lib = try tracked(scratch, ["lib/src/lib.rs": "pub fn f() {}"], binary: false, name: "lib")
        try scratch.write("src/main.rs", "fn main() { println!(); }")
        try FileManager.default.removeItem(atPath: scratch.path("src/gone.rs"))
        let changes = ChangeDetection.detect([app, lib])
        #expect(changes.changed.count == 1)
        let change = try #require(changes.changed.first)
        #expect(change.crateName == "app" && change.isBinary)
        #expect(Set(change.changedFiles) == [scratch.path("src/main.rs"), scratch.path("src/gone.rs")])
        let current = try #require(changes.current.first?.files.first { $0.path.hasSuffix("main.rs") })
        #expect(current.fingerprint?.sha256 == SourceFingerprint.sha256(ofFile: scratch.path("src/main.rs")))
    }

    @Test func sameSizeEditWithRestoredMtimeIsStillCaughtWhenMtimeDiffers() throws {
        let scratch = try CaptureScratch()
        let crate = try tracked(scratch, ["src/main.rs": "fn a() {}"])
        try scratch.write("src/main.rs", "fn b() {}")
        #expect(ChangeDetection.detect([crate]).changed.first?.changedFiles == [scratch.path("src/main.rs")])
    }

    @Test func fileModifiedWhileCompilingHasUnknownContentAndCountsAsChanged() throws {
        let scratch = try CaptureScratch()
        let url = try scratch.write("src/main.rs", "fn main() {}")
        let compileStart = Int64(Date().addingTimeInterval(-1).timeIntervalSince1970 * 1e9)
        let fingerprint = try #require(SourceFingerprint.measure(url.path, compiledAfterNs: compileStart))
        #expect(fingerprint.sha256 == nil)
        let crate = TrackedCrate(crateName: "app", crateTypes: ["bin"], captureFile: "app-bin.json", isBinary: true, files: [TrackedFile(path: url.path, fingerprint: fingerprint)])
        #expect(ChangeDetection.detect([crate]).changed.count == 1)
        let old = try #require(SourceFingerprint.measure(url.path, compiledAfterNs: compileStart + 10_000_000_000))
        #expect(old.sha256 != nil)
    }

    @Test func trackedCrateFromCaptureAndDepInfo() throws {
        let scratch = try CaptureScratch()
        try scratch.write("ws/src/main.rs", "mod extra;\nfn main() {}")
        try scratch.write("ws/src/extra file.rs", "")
        let depInfo = try scratch.write("deps/app-1.d", "\(scratch.path("deps/app-1")): src/main.rs src/extra\\ file.rs\n\nsrc/main.rs:\nsrc/extra\\ file.rs:\n")
        let capture = try CapturedRustcInvocation(rustc: "rustc", arguments: ["--crate-name", "app", "--crate-type", "bin", "src/main.rs"],
                                                  workingDirectory: scratch.path("ws"), environment: [:], capturedAt: Date().addingTimeInterval(60))
        let crate = try TrackedCrate.measure(capture, depInfo: depInfo)
        #expect(crate.files.map(\.path) == [scratch.path("ws/src/main.rs"), scratch.path("ws/src/extra file.rs")])
        #expect(crate.files.allSatisfy { $0.fingerprint?.sha256 != nil })
        #expect(crate.isBinary && crate.captureFile == "app-bin.json")
    }
}

@Suite struct ThinBuildStateTests {
    @Test func stateRoundTripsAndPatchIdsNeverRepeat() throws {
        let scratch = try CaptureScratch()
        let layout = ProjectLayout(project: scratch.url.appendingPathComponent("proj"), cacheDirectory: scratch.url.appendingPathComponent("cache"))
        #expect(try ProjectState.load(layout).lastPatchId == 0)
        let first = try layout.allocatePatch()
        let second = try layout.allocatePatch()
        #expect(first.id == 1 && second.id == 2)
        #expect(FileManager.default.fileExists(atPath: second.objectDirectory.path))
        // A lost state file must not make ids restart over existing patch directories.
        try FileManager.default.removeItem(at: layout.stateFile)
        #expect(try layout.allocatePatch().id == 3)
        var state = try ProjectState.load(layout)
        state.lastBuildId = BuildID("b20260101-000000-abcdef")
        try state.save(layout)
        #expect(try ProjectState.load(layout) == state)
    }
}
