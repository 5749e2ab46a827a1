import Foundation
import Testing
@testable import Hotpatch

/// The capture → fat build → thin rebuild stages on a real cargo workspace, with the real shims.
@Suite(.serialized) struct BuildPipelineTests {
    var shims: ShimPaths { ShimPaths(directory: BuiltProducts.directory) }

    func build(_ project: BuildTestProject, release: Bool = false, bin: String? = nil, package: String? = nil,
               progress: @escaping @Sendable (BuildProgress) -> Void = { _ in }) throws -> FatBuild {
        try FatBuild.run(project: project.project, bin: bin, package: package, release: release,
                         cacheDir: project.cache, shims: shims, progress: progress)
    }

    @Test func fatBuildCapturesEveryWorkspaceCrateAndKeepsARunnableBinary() throws {
        let project = try BuildTestProject()
        let events = EventLog()
        let build = try build(project, progress: { events.append($0) })

        // Captures: both workspace crates, keyed by crate name + types, and the binary's link.
        let captures = URL(fileURLWithPath: build.captureDirectory)
        let files = try FileManager.default.contentsOfDirectory(atPath: captures.appendingPathComponent("rustc").path).sorted()
        #expect(files == ["demo_app-bin.json", "demo_lib-lib.json"])
        let tip = try build.tipInvocation()
        #expect(tip.crateName == "demo_app" && tip.isPrimary && tip.metadata != nil && tip.extraFilename != nil)
        #expect(tip.environment["CARGO_PKG_NAME"] == "demo-app")
        let lib = try build.rustcInvocation(captureFile: "demo_lib-lib.json")
        #expect(lib.crateTypes == ["lib"] && !lib.isPrimary)
        let link = try build.linkerInvocation()
        #expect(link.linker == "cc")
        #expect(Array(link.arguments.suffix(2)) == ["-Wl,--export-dynamic", "-Wl,--no-gc-sections"])
        #expect(link.extraArguments == ["-Wl,--export-dynamic", "-Wl,--no-gc-sections"])
        #expect(link.outputPath?.hasSuffix("/deps/demo_app\(tip.extraFilename ?? "")") == true)

        // The kept copy runs, and is not cargo's file (which the next build overwrites).
        #expect(build.binary != build.originalBinary)
        #expect(build.binary.hasPrefix(build.buildDirectory))
        let run = try runTool(build.binary, [])
        #expect(run.stdoutText == "hello v1 42 7\n")

        // --export-dynamic: `main` (the slide anchor) and the global functions of the workspace
        // library are in .dynsym for patches to bind to. (The binary crate's own functions are
        // local/hidden; patches reach those through the fat binary's .symtab.)
        let dynamic = try NMSymbols(build.binary, dynamic: true)
        #expect(dynamic.demangled.contains { $0.type == "T" && $0.name == "main" })
        #expect(dynamic.definesFunction("demo_lib::answer"))

        // The record on disk is the returned value; state.json tracks every source file.
        #expect(try FatBuild.load(project.layout, id: build.id) == build)
        let state = try ProjectState.load(project.layout)
        #expect(state.lastBuildId == build.id)
        let tracked = Set(state.sources.flatMap { $0.files.map(\.path) })
        #expect(tracked == [project.project.appendingPathComponent("src/main.rs").path,
                            project.project.appendingPathComponent("src/greeting file.rs").path,
                            project.project.appendingPathComponent("demo-lib/src/lib.rs").path])
        #expect(state.sources.allSatisfy { $0.files.allSatisfy { $0.fingerprint?.sha256 != nil } })

        // Phases with timings, and progress as it happened.
        #expect(build.phases.map(\.name) == ["prepare", "cargo", "keep", "fingerprint"])
        #expect(build.recaptures == 0)
        #expect(events.all.contains(.phaseStarted("cargo")))
        #expect(events.all.contains { if case .crateFinished(name: "demo-app", fresh: false, _, _) = $0 { true } else { false } })

        // A second build with nothing edited still captures every workspace crate (cargo reuses
        // nothing of theirs, because the wrapper path is new) but no dependency is rebuilt.
        let again = try self.build(project)
        #expect(again.id != build.id && again.recaptures == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: URL(fileURLWithPath: again.captureDirectory).appendingPathComponent("rustc").path).sorted() == files)
        #expect(again.crates.filter { $0.capture != nil }.allSatisfy { !$0.fresh })
    }

    @Test func thinRebuildOfTheEditedBinaryCrate() throws {
        let project = try BuildTestProject()
        let build = try build(project)
        let layout = project.layout

        try project.write("src/greeting file.rs", """
            #[inline(never)]
            pub fn brand_new_function() -> u64 {
                0x5eed
            }

            pub fn greet() -> &'static str {
                if brand_new_function() == 0x5eed { "hello v2" } else { "?" }
            }
            """)
        let patch = try layout.allocatePatch()
        let plan = try ThinRebuildPlan.make(build: build, state: try ProjectState.load(layout), patch: patch)
        #expect(plan.crateName == "demo_app")
        #expect(plan.changes.changed.map(\.crateName) == ["demo_app"])
        #expect(plan.changes.changed.first?.changedFiles == [project.project.appendingPathComponent("src/greeting file.rs").path])
        #expect(plan.objectPlan.outDirectory == patch.objectDirectory.path)

        let result = try ThinBuildResult.run(plan)
        #expect(result.phases.map(\.name) == ["changeDetection", "rustc"])
        #expect(result.objectPath == patch.objectDirectory.appendingPathComponent(plan.objectPlan.objectFilename).path)
        let header = try #require(FileHandle(forReadingAtPath: result.objectPath)?.readData(ofLength: 18))
        #expect(Array(header.prefix(4)) == [0x7f, 0x45, 0x4c, 0x46], "an ELF file")
        #expect(header[16] == 1 && header[17] == 0, "ET_REL: a relocatable object")

        let object = try NMSymbols(result.objectPath)
        #expect(object.definesFunction("demo_app::greeting::brand_new_function"))
        #expect(object.definesFunction("demo_app::greeting::greet"))
        // -C metadata kept: an unchanged function has the same mangled name as in the fat binary.
        let fat = try NMSymbols(build.binary)
        let helper = try #require(fat.mangled.first { $0.contains("8demo_app6helper") })
        #expect(object.mangled.contains(helper))

        // After the patch is recorded, nothing is left to rebuild.
        let next = try ProjectState.load(layout).recordingThinRebuild(plan, result: result, build: build)
        try next.save(layout)
        #expect {
            try ThinRebuildPlan.make(build: build, state: next, patch: try layout.allocatePatch())
        } throws: { ($0 as? ThinBuildError)?.code == "nothing_changed" }
        // …unless forced (benchmarks rebuild the same source repeatedly).
        #expect(try ThinRebuildPlan.make(build: build, state: next, patch: try layout.allocatePatch(), force: true).crateName == "demo_app")
    }

    @Test func editingTheWorkspaceLibraryRebuildsItThenTheBinary() throws {
        let project = try BuildTestProject()
        let build = try build(project)
        let layout = project.layout
        try project.write("demo-lib/src/lib.rs", "pub fn answer() -> u32 {\n    43\n}\n")
        let plan = try ThinRebuildPlan.make(build: build, state: try ProjectState.load(layout), patch: try layout.allocatePatch())
        #expect(plan.rebuiltCrates == ["demo_lib", "demo_app"])
        #expect(plan.crateName == "demo_app" && plan.objectPlan == plan.steps.last)
        #expect(plan.changes.changed.map(\.crateName) == ["demo_lib"])
        let result = try ThinBuildResult.run(plan)
        #expect(result.phases.map(\.name) == ["changeDetection", "rustc demo_lib", "rustc"])
        #expect(result.objectPaths.count == 2 && result.objectPaths.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        #expect(try NMSymbols(result.objectPaths[0]).definesFunction("demo_lib::answer"))

        // Saving the original text back (new mtime, same bytes) is not a change any more.
        try project.write("demo-lib/src/lib.rs", BuildTestProject.libV1)
        #expect(throws: ThinBuildError.self) {
            try ThinRebuildPlan.make(build: build, state: try ProjectState.load(layout), patch: try layout.allocatePatch())
        }
        let state = try ProjectState.load(layout)
        #expect(ChangeDetection.detect(state.sources).isEmpty)
    }

    @Test func compileErrorReportsRustcDiagnostics() throws {
        let project = try BuildTestProject()
        let build = try build(project)
        let layout = project.layout
        try project.write("src/greeting file.rs", "pub fn greet() -> &'static str {\n    \"unterminated\n}\n")
        let plan = try ThinRebuildPlan.make(build: build, state: try ProjectState.load(layout), patch: try layout.allocatePatch())
        let error = try #require(throws: ThinBuildError.self) { try ThinBuildResult.run(plan) }
        guard case let .rustcFailed(crate, status, diagnostics, command) = error else {
            Issue.record("expected rustcFailed, got \(error)")
            return
        }
        #expect(crate == "demo_app")
        #expect(status != 0)
        #expect(diagnostics.contains("error"))
        #expect(diagnostics.contains("greeting file.rs"), "human-readable diagnostics naming the file: \(diagnostics)")
        #expect(!diagnostics.contains("\"$message_type\""), "not rustc's JSON")
        #expect(command.contains("--emit=obj"))
        #expect(!FileManager.default.fileExists(atPath: plan.objectPlan.objectPath.path))

        // Fixing it patches fine.
        try project.write("src/greeting file.rs", "pub fn greet() -> &'static str {\n    \"fixed\"\n}\n")
        let fixed = try ThinRebuildPlan.make(build: build, state: try ProjectState.load(layout), patch: try layout.allocatePatch())
        #expect(try NMSymbols(try ThinBuildResult.run(fixed).objectPath).definesFunction("demo_app::greeting::greet"))
    }

    @Test func releaseBinAndPackageSelection() throws {
        let project = try BuildTestProject()
        try project.write("src/bin/tool.rs", "fn main() { println!(\"tool\"); }\n")
        #expect {
            try self.build(project)
        } throws: { ($0 as? FatBuildError)?.code == "ambiguous_binary" }

        let release = try self.build(project, release: true, bin: "demo-app", package: "demo-app")
        #expect(release.profile == "release")
        #expect(release.originalBinary.contains("/release/"))
        #expect(try release.tipInvocation().arguments.contains { $0.hasPrefix("opt-level=") || $0 == "-Copt-level=3" })
        #expect(try runTool(release.binary, []).stdoutText == "hello v1 42 7\n")

        let tool = try self.build(project, bin: "tool")
        #expect(URL(fileURLWithPath: tool.binary).lastPathComponent == "tool")
        #expect(try runTool(tool.binary, []).stdoutText == "tool\n")
    }

    /// A path dependency outside the workspace is not wrapped by the workspace wrapper (cargo's
    /// rule): the shim as RUSTC_WRAPPER captures it when cargo compiles it, and a later build that
    /// reuses it adopts that capture instead of cleaning and rebuilding it.
    @Test func pathDependencyOutsideTheWorkspaceIsCapturedOnceAndAdopted() throws {
        let project = try BuildTestProject()
        let external = project.root.appendingPathComponent("external-dep")
        try FileManager.default.createDirectory(at: external.appendingPathComponent("src"), withIntermediateDirectories: true)
        try Data("[package]\nname = \"ext-dep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n".utf8).write(to: external.appendingPathComponent("Cargo.toml"))
        try Data("pub fn ext() -> u32 { 1 }\n".utf8).write(to: external.appendingPathComponent("src/lib.rs"))
        let manifest = try String(contentsOf: project.project.appendingPathComponent("Cargo.toml"), encoding: .utf8)
        try project.write("Cargo.toml", manifest.replacingOccurrences(of: "[dependencies]\n", with: "[dependencies]\next-dep = { path = \"../external-dep\" }\n"))
        let first = try build(project)
        #expect(first.crates.first { $0.name == "ext_dep" }?.capture == "ext_dep-lib.json")
        let second = try build(project)
        #expect(second.recaptures == 0)
        let ext = try #require(second.crates.first { $0.name == "ext_dep" })
        #expect(ext.fresh && ext.capture == "ext_dep-lib.json")
        #expect(Set(second.crates.compactMap(\.capture)) == ["demo_app-bin.json", "demo_lib-lib.json", "ext_dep-lib.json"])
        #expect(try ProjectState.load(project.layout).sources.map(\.crateName).sorted() == ["demo_app", "demo_lib", "ext_dep"])
    }

    /// When cargo reuses the workspace crates (here: the wrapper path is kept stable on purpose),
    /// the build cleans them and runs cargo again so that every one is captured.
    @Test func recaptureFallbackWhenCargoReusesWorkspaceCrates() throws {
        let project = try BuildTestProject()
        func stableWrapperBuild() throws -> FatBuild {
            try FatBuild.run(project: project.project, bin: nil, package: nil, release: false, target: nil, cacheDir: project.cache,
                             environment: ProcessInfo.processInfo.environment, shims: shims, symbolCount: nil, cancellation: nil,
                             progress: { _ in }, perBuildWrapper: false)
        }
        let first = try stableWrapperBuild()
        #expect(first.recaptures == 0)
        let second = try stableWrapperBuild()
        #expect(second.recaptures == 1)
        #expect(second.phases.map(\.name).contains("recapture"))
        #expect(Set(second.crates.compactMap(\.capture)) == ["demo_app-bin.json", "demo_lib-lib.json"])
        #expect(try runTool(second.binary, []).stdoutText == "hello v1 42 7\n")
    }

    @Test func explicitTargetTriple() throws {
        let project = try BuildTestProject()
        let host = try #require(RustcVersion(parsing: try runTool("/bin/sh", ["-c", "rustc -vV"]).stdoutText)?.host)
        let build = try FatBuild.run(project: project.project, target: host, cacheDir: project.cache, shims: shims)
        #expect(build.target == host)
        #expect(build.originalBinary.contains("/\(host)/debug/"))
        let tip = try build.tipInvocation()
        #expect(tip.target == host)
        #expect(RustcCommandLine(tip.arguments).targetTriple == host)
        #expect(try build.linkerInvocation().outputPath?.contains("/\(host)/debug/deps/") == true)
        #expect(try runTool(build.binary, []).stdoutText == "hello v1 42 7\n")
    }

    @Test func cargoFailureCarriesItsDiagnostics() throws {
        let project = try BuildTestProject()
        try project.write("src/main.rs", "fn main() { let x: u32 = \"no\"; }\n")
        let error = try #require(throws: FatBuildError.self) { try build(project) }
        guard case let .cargoFailed(status, diagnostics, logPath) = error else {
            Issue.record("expected cargoFailed, got \(error)")
            return
        }
        #expect(status == 101)
        #expect(diagnostics.contains("mismatched types"))
        #expect(!diagnostics.contains("Compiling"))
        #expect(FileManager.default.fileExists(atPath: logPath))
    }
}

/// Collects progress events from the build's reader threads.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [BuildProgress] = []
    func append(_ event: BuildProgress) { lock.lock(); events.append(event); lock.unlock() }
    var all: [BuildProgress] { lock.lock(); defer { lock.unlock() }; return events }
}
