import Foundation
import Hotpatch
import Testing

/// Issue 13, deliver 1 (the parts that need no debug info): an edit only a fat build can carry is
/// refused before anything compiles or any process loads it, with one precise reason per cause,
/// and the project patches again once the edit is undone.
@Suite(.serialized) struct PatchabilityEndToEndTests {
    @Test func manifestBuildScriptAndLockFileChangesAreRefusedWithTheirReasons() throws {
        let workspace = try CounterWorkspace()
        let binary = try workspace.build()
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        let table = workspace.root.appendingPathComponent("table.json").path
        let manifest = workspace.project.appendingPathComponent("Cargo.toml")
        let original = try String(contentsOf: manifest, encoding: .utf8)

        // A new feature in Cargo.toml, and a build script that didn't exist.
        try (original + "\n[features]\nloud = []\n").write(to: manifest, atomically: true, encoding: .utf8)
        try "fn main() {}\n".write(to: workspace.project.appendingPathComponent("build.rs"), atomically: true, encoding: .utf8)
        try workspace.setMessage(from: "hello from counter", to: "never patched")
        let refused = try workspace.patch(reference: reference, table: table, ["--json"])
        #expect(!refused.succeeded)
        #expect(refused.stderrText.contains("not patchable"), "\(refused.stderrText)")
        #expect(refused.stderrText.contains("Cargo.toml changed since the build"), "\(refused.stderrText)")
        #expect(refused.stderrText.contains("build.rs was added since the build"), "\(refused.stderrText)")
        #expect(refused.stderrText.contains("rebuild and restart"), "the way out")
        #expect(!FileManager.default.fileExists(atPath: table), "no table for a refused patch")
        let mark = app.output.count
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": hello from counter") } != nil, "the app keeps its code")

        // Undone (contents, not mtimes, decide): the same text edit patches.
        try original.write(to: manifest, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: workspace.project.appendingPathComponent("build.rs"))
        let patched = try workspace.patch(reference: reference, table: table)
        try #require(patched.succeeded, "\(patched.stderrText)")
        app.send(table)
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": never patched") } != nil)

        // The lock file, too.
        let lock = workspace.project.appendingPathComponent("Cargo.lock")
        try (try String(contentsOf: lock, encoding: .utf8) + "\n").write(to: lock, atomically: true, encoding: .utf8)
        try workspace.setMessage(from: "never patched", to: "still refused")
        let lockRefused = try workspace.patch(reference: reference, table: table)
        #expect(!lockRefused.succeeded)
        #expect(lockRefused.stderrText.contains("Cargo.lock changed since the build"), "\(lockRefused.stderrText)")
    }

    @Test func aStaticWhoseTypeChangedIsRefusedNamingItsSizes() throws {
        let workspace = try CounterWorkspace()
        let binary = try workspace.build()
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        // TICKS_SEEN: AtomicU64 (8 bytes) in the running build → a 16-byte array of counters.
        try workspace.editMain {
            $0.replacingOccurrences(of: "static TICKS_SEEN: AtomicU64 = AtomicU64::new(0);",
                                    with: "static TICKS_SEEN: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];")
                .replacingOccurrences(of: "TICKS_SEEN.fetch_add(1, Ordering::Relaxed);", with: "TICKS_SEEN[1].fetch_add(1, Ordering::Relaxed);")
        }
        let table = workspace.root.appendingPathComponent("table.json").path
        let refused = try workspace.patch(reference: reference, table: table)
        #expect(!refused.succeeded)
        #expect(refused.stderrText.contains("the type of static `counter::TICKS_SEEN` changed (8 → 16 bytes)"), "\(refused.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: table))
        let mark = app.output.count
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": hello from counter") } != nil)
    }

    /// A field added in front of the state `main` keeps: the check reads both layouts from the
    /// debug info and refuses, naming the type and its sizes. Forced through with
    /// `--allow-unpatchable`, the patch does run — and misbehaves, which is what the check is
    /// for: the new `tick` reads the old `ticks` as `generation` (a correct program prints 0).
    ///
    /// Built with v0 symbol names: legacy mangling hashes a struct's definition into the name of
    /// every function whose type mentions it, so there the edited `tick` and the closure `main`
    /// hot-calls become *new* functions and the old code keeps running on the old memory; v0
    /// names carry no such hash, so the new code takes over the old memory, as it does for a
    /// type reached through a trait object or a pointer under either mangling.
    @Test func aStructFieldAddedIsRefusedAndForcedThroughItMisbehaves() throws {
        let workspace = try CounterWorkspace()
        let v0 = ["RUSTFLAGS": "-Csymbol-mangling-version=v0"]
        let built = try workspace.whiskerDev(["build", "--project", workspace.project.path, "--json"], environment: v0)
        try #require(built.succeeded, "\(built.stderrText)")
        let binary = try #require((try JSONSerialization.jsonObject(with: built.stdout) as? [String: Any])?["binary"] as? String)
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        #expect(app.waitForLine { $0.hasPrefix("tick 3:") } != nil, "\(app.output.suffix(5))")
        try workspace.editMain(Self.addGenerationField)
        let table = workspace.root.appendingPathComponent("table.json").path
        let refused = try workspace.patch(reference: reference, table: table, environment: v0)
        #expect(!refused.succeeded)
        #expect(refused.stderrText.contains("the layout of `counter::State` changed (8 → 16 bytes; field `generation` added at offset 0; `ticks` moved from offset 0 to 8)"),
                "\(refused.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: table), "no table for a refused patch")
        let mark = app.output.count
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": hello from counter") } != nil, "the app keeps its code")

        let forced = try workspace.patch(reference: reference, table: table, ["--allow-unpatchable"], environment: v0)
        try #require(forced.succeeded, "\(forced.stderrText)")
        #expect(forced.stderrText.contains("applied although not patchable"), "\(forced.stderrText)")
        let beforeForce = app.output.count
        app.send(table)
        let misread = app.waitForLine(after: beforeForce, timeout: 20) { $0.contains("(generation ") }
        if let misread {
            // The old `ticks` (3 or more by now) read as the new field.
            let generation = misread.split(separator: "(generation ").last.flatMap { Int($0.dropLast()) }
            #expect(generation.map { $0 >= 3 } == true, "misread state: \(misread)")
        } else {
            #expect(!app.isRunning, "neither misread state nor a crash: \(app.output.suffix(8))")
        }
    }

    /// An edited proc-macro crate (a path dependency) is refused as `proc_macro_changed`: its code
    /// runs in the compiler, so only a new build has what it generates. The app keeps its code.
    @Test func aChangedProcMacroCrateIsRefusedNamingIt() throws {
        let workspace = try CounterWorkspace()
        let macro = workspace.root.appendingPathComponent("examples/greet")
        try FileManager.default.createDirectory(at: macro.appendingPathComponent("src"), withIntermediateDirectories: true)
        try "[package]\nname = \"greet\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n"
            .write(to: macro.appendingPathComponent("Cargo.toml"), atomically: false, encoding: .utf8)
        let macroSource = macro.appendingPathComponent("src/lib.rs")
        func writeMacro(_ text: String) throws {
            try "use proc_macro::TokenStream;\n\n#[proc_macro]\npub fn greeting(_: TokenStream) -> TokenStream {\n    \"\\\"\(text)\\\"\".parse().unwrap()\n}\n"
                .write(to: macroSource, atomically: false, encoding: .utf8)
        }
        try writeMacro("hello from a macro")
        let manifest = workspace.project.appendingPathComponent("Cargo.toml")
        try (try String(contentsOf: manifest, encoding: .utf8)).replacingOccurrences(
            of: "[dependencies]\n", with: "[dependencies]\ngreet = { path = \"../greet\" }\n").write(to: manifest, atomically: false, encoding: .utf8)
        try workspace.editMain { $0.replacingOccurrences(of: "    \"hello from counter\"\n", with: "    greet::greeting!()\n") }
        let binary = try workspace.build()
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        #expect(app.waitForLine { $0.hasSuffix(": hello from a macro") } != nil, "\(app.output.suffix(5))")

        try writeMacro("hello from an edited macro")
        let table = workspace.root.appendingPathComponent("table.json").path
        let refused = try workspace.patch(reference: reference, table: table)
        #expect(!refused.succeeded)
        #expect(refused.stderrText.contains("not patchable: the proc-macro crate `greet` changed"), "\(refused.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: table), "no table for a refused patch")
        let mark = app.output.count
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": hello from a macro") } != nil, "the app keeps its code")
    }

    /// `struct State { ticks }` → `#[repr(C)] struct State { generation, ticks }` (16 bytes,
    /// `ticks` at 8), printed by `tick`.
    static func addGenerationField(_ source: String) -> String {
        source
            .replacingOccurrences(of: "struct State {\n    ticks: u64,\n}", with: "#[repr(C)]\nstruct State {\n    generation: u64,\n    ticks: u64,\n}")
            .replacingOccurrences(of: "State { ticks: 0 }", with: "State { generation: 0, ticks: 0 }")
            .replacingOccurrences(of: "say(&format!(\"tick {}: {}\", state.ticks, message()));",
                                  with: "say(&format!(\"tick {}: {} (generation {})\", state.ticks, message(), state.generation));")
    }

    /// Under `serve`: saving Cargo.toml is noticed (it is watched), the patch fails before any
    /// device gets it, and the API says why; the device keeps its code.
    @Test func serveRefusesAManifestSaveWithPatchableFalseAndTheReason() throws {
        let workspace = try CounterWorkspace()
        let server = try DevServerProcess(workspace: workspace)
        defer { _ = server.interrupt() }
        let build = try server.waitForBuild()
        let (app, _) = try workspace.launch(binary: build.binary, environment: ["WHISKER_DEV_SERVER": server.url, "WHISKER_BUILD_ID": build.id])
        defer { app.terminate() }
        #expect(app.waitForLine { $0.contains("registered with") } != nil, "\(app.output.suffix(5))")

        let manifest = workspace.project.appendingPathComponent("Cargo.toml")
        try (try String(contentsOf: manifest, encoding: .utf8) + "\n[features]\nloud = []\n").write(to: manifest, atomically: false, encoding: .utf8)
        var refused: [String: Any]?
        let deadline = Date().addingTimeInterval(60)
        while refused == nil, Date() < deadline {
            let patches = try server.request("GET", "/api/patches").json?["patches"] as? [[String: Any]] ?? []
            if let id = patches.first(where: { $0["state"] as? String == "failed" })?["id"] as? Int {
                refused = try server.request("GET", "/api/patches/\(id)").json
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let record = try #require(refused, "no failed patch after saving Cargo.toml")
        #expect(record["patchable"] as? Bool == false, "\(record)")
        let reasons = record["reasons"] as? [[String: Any]] ?? []
        #expect(reasons.first?["code"] as? String == "manifest_changed", "\(reasons)")
        #expect(reasons.first?["file"] as? String == manifest.path, "\(reasons)")
        #expect((record["error"] as? [String: Any])?["code"] as? String == "not_patchable")
        #expect((record["appliedBy"] as? [String])?.isEmpty == true, "no device got it")
        let mark = app.output.count
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": hello from counter") } != nil)
        #expect(try server.request("GET", "/healthz").status == 200)
    }
}
