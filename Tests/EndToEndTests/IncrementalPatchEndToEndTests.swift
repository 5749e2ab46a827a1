import Foundation
import Hotpatch
import Testing

/// Issue 10's incremental thin rebuilds, from the CLI on a live process: the counter grown into a
/// crate of many codegen units (modules calling each other), patched three times. Each patch
/// re-codegens only the units the edit touched, links only those and the units whose functions
/// reach changed code, and the process runs the new code with its state; cargo's own target and
/// incremental directories are never touched, and a new fat build starts the patch state afresh.
@Suite(.serialized) struct IncrementalPatchEndToEndTests {
    static let modules = 12

    /// Adds `modules` module files to the counter: `chain` walks every module down to a `leaf`
    /// whose text an edit changes; `message()` prints two leaves.
    static func growIntoManyUnits(_ workspace: CounterWorkspace) throws {
        let source = workspace.project.appendingPathComponent("src")
        for index in 0..<modules {
            var text = "use std::collections::HashMap;\n\n"
            for function in 0..<12 {
                text += """
                pub fn work\(function)(x: u64) -> u64 {
                    let mut map: HashMap<u64, String> = HashMap::new();
                    for i in 0..(x % 5) { map.insert(i, format!("\(index)-\(function)-{i}")); }
                    map.values().map(|v| v.len() as u64).sum::<u64>() + \(index * 100 + function)
                }

                """
            }
            text += """
            pub fn leaf(x: u64) -> String {
                format!("leaf\(index) v0 {}", work3(x) % 7)
            }

            pub fn chain(x: u64, depth: u32) -> String {
                if depth == 0 { leaf(x) } else { crate::m\((index + 1) % modules)::chain(x, depth - 1) }
            }

            """
            try Data(text.utf8).write(to: source.appendingPathComponent("m\(index).rs"))
        }
        try workspace.editMain { main in
            let declarations = (0..<modules).map { "mod m\($0);" }.joined(separator: "\n")
            return main
                .replacingOccurrences(of: "use std::io::{BufRead, Write};", with: "\(declarations)\n\nuse std::io::{BufRead, Write};")
                .replacingOccurrences(
                    of: "fn message() -> &'static str {\n    \"hello from counter\"\n}",
                    with: "fn message() -> String {\n    format!(\"{} | {}\", m1::chain(1, 4), m9::leaf(2))\n}")
        }
    }

    static func edit(_ workspace: CounterWorkspace, module: Int, from old: String, to new: String) throws {
        let file = workspace.project.appendingPathComponent("src/m\(module).rs")
        let text = try String(contentsOf: file, encoding: .utf8)
        try #require(text.contains(old))
        Thread.sleep(forTimeInterval: 0.02)  // a later mtime than the build saw
        try Data(text.replacingOccurrences(of: old, with: new).utf8).write(to: file)
    }

    /// Every file under `directory` with its size and modification time.
    static func snapshot(_ directory: URL) -> [String: String] {
        var result: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return result }
        for case let path as String in walker {
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(path).path)
            let date = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            result[path] = "\(attributes?[.size] ?? 0) \(date)"
        }
        return result
    }

    struct UnitCounts: Equatable { var units: Int; var changed: Int; var linked: Int }

    /// The tip crate's `codegenUnits` entry and the library size from `patch --json`.
    static func counts(_ result: CommandResult) throws -> (UnitCounts, Int, [String]) {
        let plan = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let crates = try #require(plan["codegenUnits"] as? [[String: Any]], "the plan lists codegen units: \(result.stdoutText.prefix(400))")
        let tip = try #require(crates.first { ($0["captureFile"] as? String)?.hasPrefix("counter-bin") == true })
        let library = try #require(plan["library"] as? [String: Any])
        return (UnitCounts(units: tip["units"] as? Int ?? 0, changed: tip["changed"] as? Int ?? 0, linked: tip["linked"] as? Int ?? 0),
                library["size"] as? Int ?? 0, plan["cratesRebuilt"] as? [String] ?? [])
    }

    @Test func editsRecompileAndLinkOnlyWhatChangedWhileCargosStateStaysUntouched() throws {
        let workspace = try CounterWorkspace()
        try Self.growIntoManyUnits(workspace)

        // The user's own build first: its target dir must come out of the patches untouched.
        let cargo = try CommandRunner.run(Command(
            "cargo", ["build", "--offline"], environment: cargoEnvironment(), workingDirectory: workspace.project))
        try #require(cargo.succeeded, "cargo build: \(cargo.stderrText)")
        let userTarget = workspace.project.appendingPathComponent("target")
        let userTargetBefore = Self.snapshot(userTarget)

        let binary = try workspace.build()
        let layout = ProjectLayout(project: workspace.project, cacheDirectory: workspace.cache)
        let fatIncremental = layout.targetDirectory.appendingPathComponent("debug/incremental")
        let fatIncrementalBefore = Self.snapshot(fatIncremental)
        #expect(!fatIncrementalBefore.isEmpty, "cargo compiled the fat build incrementally")

        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        try #require(app.waitForLine { $0.contains("leaf5 v0") && $0.contains("leaf9 v0") } != nil, "\(app.output.suffix(3))")

        // 1: one leaf deep in the chain. Its unit changed; the chain's units call it, so they are
        // linked too; the other modules' units are the executable's.
        try Self.edit(workspace, module: 5, from: "leaf5 v0", to: "leaf5 v1")
        var mark = app.output.count
        let first = try workspace.patch(reference: reference, table: workspace.root.appendingPathComponent("t1.json").path, ["--json"])
        try #require(first.succeeded, "patch 1: \(first.stderrText)")
        let (units1, size1, _) = try Self.counts(first)
        #expect(units1.units > Self.modules, "many codegen units: \(units1)")
        #expect(units1.changed >= 1 && units1.changed <= 2, "a one-line edit re-codegens its unit: \(units1)")
        #expect(units1.linked < units1.units, "only what reaches the edit is linked: \(units1)")
        app.send(workspace.root.appendingPathComponent("t1.json").path)
        let line1 = try #require(app.waitForLine(after: mark) { $0.contains("leaf5 v1") }, "\(app.output.suffix(3))")
        let tick1 = try #require(tickNumber(line1))

        // 2: another function, in another module; the first edit stays in (the set only grows).
        try Self.edit(workspace, module: 9, from: "leaf9 v0", to: "leaf9 v1")
        mark = app.output.count
        let second = try workspace.patch(reference: reference, table: workspace.root.appendingPathComponent("t2.json").path, ["--json"])
        try #require(second.succeeded, "patch 2: \(second.stderrText)")
        let (units2, _, _) = try Self.counts(second)
        #expect(units2.linked >= units1.linked, "units linked before stay linked: \(units1) → \(units2)")
        app.send(workspace.root.appendingPathComponent("t2.json").path)
        let line2 = try #require(app.waitForLine(after: mark) { $0.contains("leaf5 v1") && $0.contains("leaf9 v1") }, "\(app.output.suffix(3))")
        #expect((tickNumber(line2) ?? 0) > tick1, "the counter keeps counting")

        // 3: the same function again.
        try Self.edit(workspace, module: 5, from: "leaf5 v1", to: "leaf5 v2")
        mark = app.output.count
        let third = try workspace.patch(reference: reference, table: workspace.root.appendingPathComponent("t3.json").path, ["--json"])
        try #require(third.succeeded, "patch 3: \(third.stderrText)")
        app.send(workspace.root.appendingPathComponent("t3.json").path)
        #expect(app.waitForLine(after: mark) { $0.contains("leaf5 v2") && $0.contains("leaf9 v1") } != nil, "\(app.output.suffix(3))")
        #expect(app.isRunning)

        // cargo's incremental state of the fat build and the user's target dir: never touched.
        #expect(Self.snapshot(fatIncremental) == fatIncrementalBefore, "the fat build's incremental directory is cargo's alone")
        #expect(Self.snapshot(userTarget) == userTargetBefore, "the project's target/ is the user's alone")
        // And the user's next build is an incremental one of the edited crate only.
        let rebuild = try CommandRunner.run(Command(
            "cargo", ["build", "--offline"], environment: cargoEnvironment(), workingDirectory: workspace.project))
        try #require(rebuild.succeeded, "cargo build after patches: \(rebuild.stderrText)")
        let compiled = rebuild.stderrText.split(separator: "\n").filter { $0.contains("Compiling ") }
        #expect(compiled.count == 1 && compiled.first?.contains("counter") == true, "only the edited crate: \(compiled)")

        // A new fat build starts the patch state afresh: its own incremental directories, and the
        // next one-line edit links what that edit needs, not what earlier patches accumulated.
        let state = try ProjectState.load(layout)
        let oldBuild = try #require(state.lastBuildId)
        _ = try workspace.build()
        let newState = try ProjectState.load(layout)
        let newBuild = try #require(newState.lastBuildId)
        #expect(newBuild != oldBuild)
        #expect(newState.linkedUnits(of: newBuild).isEmpty)
        let newIncremental = layout.build(newBuild).thinIncremental
        #expect(FileManager.default.fileExists(atPath: newIncremental.path), "the warm-up made the new build's incremental state")
        try Self.edit(workspace, module: 9, from: "leaf9 v1", to: "leaf9 v2")
        let afterRebuild = try workspace.patch(reference: "0x0", table: workspace.root.appendingPathComponent("t4.json").path, ["--json"])
        try #require(afterRebuild.succeeded, "patch after a new build: \(afterRebuild.stderrText)")
        let (units4, size4, _) = try Self.counts(afterRebuild)
        #expect(units4.linked <= units2.linked, "\(units4) after the new build vs \(units2) before")
        #expect(size4 > 0 && size1 > 0)
    }

    func cargoEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = "\(NSHomeDirectory())/.cargo/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment.removeValue(forKey: "RUSTC_WRAPPER")
        environment.removeValue(forKey: "RUSTC_WORKSPACE_WRAPPER")
        return environment
    }
}
