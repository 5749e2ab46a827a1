import Foundation
import Hotpatch
import Testing

/// Issue 6, item 1: an edit in a workspace library (or a path dependency outside the workspace)
/// replays that crate and every workspace crate depending on it, in dependency order, links them
/// into one patch, and the running process runs the new library code — same pid, state kept.
@Suite(.serialized) struct WorkspaceLibraryPatchTests {
    /// The number in `tick <n>: …`.
    func tick(_ line: String?) -> Int? { line.flatMap(tickNumber) }

    @Test func libraryEditsThenABinaryEditPatchTheRunningProcessInChain() throws {
        let workspace = try LibraryWorkspace()
        let build = try workspace.build()
        // Every crate of a path package is tracked: the two members, the path dependency outside
        // the workspace and the runtime (also outside); the registry has none here.
        let tracked = try ProjectState.load(workspace.layout).sources.map(\.crateName).sorted()
        #expect(tracked == ["app", "extdep", "whisker_hot", "wlib"])
        let (app, reference) = try workspace.launch(build)
        defer { app.terminate() }
        let pid = app.pid
        var lastTick = try #require(tick(app.waitForLine { $0.hasSuffix(": lib v1 (6) | ext v1") }), "\(app.output.suffix(3))")
        let patcher = Patcher(layout: workspace.layout)

        func apply(_ table: String, expecting suffix: String, round: String) throws {
            let mark = app.output.count
            app.send(table)
            let applied = app.waitForLine(after: mark) { $0.hasPrefix("whisker: applied patch") || $0.hasPrefix("whisker: patch failed") }
            #expect(applied?.hasPrefix("whisker: applied patch") == true, "\(round): \(applied ?? "no answer")")
            let line = app.waitForLine(after: mark) { $0.hasSuffix(suffix) }
            let number = try #require(tick(line), "\(round): \(app.output.suffix(4))")
            #expect(number > lastTick, "\(round): the counter continues")
            lastTick = number
            #expect(app.isRunning && app.pid == pid)
        }

        // 1. The workspace library: it, then the binary.
        try workspace.write("ws/wlib/src/lib.rs", LibraryWorkspace.library("lib v2"))
        let (first, linked, table1) = try workspace.patch(patcher, reference: reference, name: "t1")
        #expect(first.thinPlan.rebuiltCrates == ["wlib", "app"])
        #expect(first.thinPlan.crateName == "app")
        // An edit inside a function body keeps the library's interface: the binary, compiled
        // against the same metadata before, is linked from the build's warm-up, not replayed.
        #expect(first.rebuiltCrates == ["wlib"], "\(first.thinResult.skipped)")
        #expect(first.thinResult.skipped == ["app-bin.json"])
        #expect(first.thinResult.phases.map(\.name) == ["changeDetection", "rustc wlib"])
        func objects(of crate: String) -> [String] { first.objects.filter { URL(fileURLWithPath: $0).lastPathComponent.hasPrefix("\(crate)-") } }
        #expect(!objects(of: "wlib").isEmpty && !objects(of: "app").isEmpty, "the library and the binary code calling it: \(first.objects)")
        let libraryStep = try #require(first.thinPlan.steps.first)
        // Incremental: dependents compile against the library's metadata; its objects are linked.
        #expect(libraryStep.emitsLibrary && libraryStep.arguments.contains("--emit=obj,dep-info,metadata"))
        let rlib = try #require(libraryStep.libraryPath?.path)
        #expect(FileManager.default.fileExists(atPath: rlib))
        // The binary's step would compile against the new metadata, under the same -C metadata as
        // the fat build, wrapped in a metadata-only rlib (rustc 1.63 wants one for a bin).
        let archive = try #require(first.thinPlan.objectPlan.metadataArchives[rlib])
        #expect(archive == String(rlib.dropLast(".rmeta".count)) + ".rlib")
        #expect(first.thinPlan.objectPlan.arguments.contains { $0.hasPrefix("wlib=") && $0.hasSuffix(archive) })
        // rustc writes into the build's stable out dir (its incremental state depends on the path)…
        #expect(first.thinPlan.objectPlan.arguments.starts(with: ["-L", "dependency=\(first.thinPlan.objectPlan.outDirectory)"]))
        // …and the patch keeps its own links to what it produced (the binary's units come from the warm-up).
        #expect(objects(of: "wlib").allSatisfy { $0.hasPrefix(first.patch.objectDirectory.path) })
        let fatMessage = try #require(try NMSymbols(build.binary).mangled.first { $0.contains("4wlib7message") })
        #expect(try objects(of: "wlib").contains { try NMSymbols($0).mangled.contains(fatMessage) }, "the library's symbols match the fat binary's")
        // One object references wlib::message, another defines it: not needed from the executable.
        #expect(!first.objectSymbols.undefinedNames.contains(fatMessage))
        #expect(try objects(of: "app").contains { try SymbolTable.make(contentsOf: $0).undefinedNames.contains(fatMessage) })
        #expect(linked.jumpTable.entries.count > 0)
        // The plan's duration is wall time: at least its longest phase, at most the phases' sum
        // (which counts a background library step twice when dependents compile beside it).
        let phaseSum = linked.plan.phases.reduce(0) { $0 + $1.durationMs }
        let longest = linked.plan.phases.map(\.durationMs).max() ?? 0
        #expect(linked.plan.durationMs >= longest && linked.plan.durationMs <= phaseSum + 200, "\(linked.plan.durationMs) vs \(linked.plan.phases)")
        try apply(table1, expecting: ": lib v2 (6) | ext v1", round: "lib edit")

        // 2. The path dependency outside the workspace: it, the library depending on it, the binary.
        try workspace.write("ext/src/lib.rs", LibraryWorkspace.external("ext v2!"))
        let (second, _, table2) = try workspace.patch(patcher, reference: reference, name: "t2")
        #expect(second.thinPlan.rebuiltCrates == ["extdep", "wlib", "app"])
        try apply(table2, expecting: ": lib v2 (7) | ext v2!", round: "external edit")

        // 3. The library again.
        try workspace.write("ws/wlib/src/lib.rs", LibraryWorkspace.library("lib v3"))
        let (third, _, table3) = try workspace.patch(patcher, reference: reference, name: "t3")
        #expect(third.rebuiltCrates.first == "wlib" && !third.rebuiltCrates.contains("extdep"))
        try apply(table3, expecting: ": lib v3 (7) | ext v2!", round: "second lib edit")

        // 4. The binary alone was edited, but the patched libraries come along: compiled against
        // the fat build's rlibs, the binary would call the fat binary's old library code.
        try workspace.write("ws/app/src/main.rs", LibraryWorkspace.app.replacingOccurrences(of: "\"tick {}: {} | {}\"", with: "\"tick {}: bin v2 {} | {}\""))
        let (fourth, _, table4) = try workspace.patch(patcher, reference: reference, name: "t4")
        #expect(fourth.thinPlan.changes.changed.map(\.crateName) == ["app"])
        // The patched libraries are linked again from their latest compile, not replayed.
        #expect(fourth.rebuiltCrates == ["app"])
        #expect(Set(fourth.thinPlan.reused.map(\.crateName)) == ["extdep", "wlib"])
        #expect(fourth.objects.contains { URL(fileURLWithPath: $0).lastPathComponent.hasPrefix("wlib-") })
        try apply(table4, expecting: ": bin v2 lib v3 (7) | ext v2!", round: "bin edit")

        // Nothing left: the fingerprints of every rebuilt crate were recorded.
        #expect(throws: ThinBuildError.self) { try patcher.compile() }
    }

    @Test func aCompileErrorInTheLibraryReportsRustcAndChangesNothing() throws {
        let workspace = try LibraryWorkspace()
        let build = try workspace.build()
        let (app, reference) = try workspace.launch(build)
        defer { app.terminate() }
        #expect(app.waitForLine { $0.hasSuffix(": lib v1 (6) | ext v1") } != nil)
        let patcher = Patcher(layout: workspace.layout)
        let before = try ProjectState.load(workspace.layout)

        try workspace.write("ws/wlib/src/lib.rs", "pub fn message() -> String {\n    undefined_thing()\n}\n")
        do {
            _ = try patcher.compile()
            Issue.record("a broken library compiled")
        } catch let error as ThinBuildError {
            guard case let .rustcFailed(crate, _, diagnostics, _) = error else {
                Issue.record("unexpected \(error.message)")
                return
            }
            #expect(crate == "wlib", "the library fails, the binary is never compiled")
            #expect(diagnostics.contains("error[E0425]"))
            #expect(diagnostics.contains("wlib/src/lib.rs"))
        }
        var after = try ProjectState.load(workspace.layout)
        after.lastPatchId = before.lastPatchId
        #expect(after == before, "a failed patch records nothing")
        let mark = app.output.count
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": lib v1 (6) | ext v1") } != nil, "the old code keeps running")

        try workspace.write("ws/wlib/src/lib.rs", LibraryWorkspace.library("fixed"))
        let (compilation, _, table) = try workspace.patch(patcher, reference: reference, name: "fixed")
        #expect(compilation.thinPlan.rebuiltCrates == ["wlib", "app"])
        app.send(table)
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": fixed (6) | ext v1") } != nil, "\(app.output.suffix(3))")
    }
}
