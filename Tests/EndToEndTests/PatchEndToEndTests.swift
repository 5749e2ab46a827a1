import Foundation
import Hotpatch
import Testing

/// Issue 3's promise, from the CLI: a running counter is patched in place — same pid, the new text,
/// the count continuing — ten times in a row; a compile error changes nothing; bad input is one
/// clear line.
@Suite(.serialized) struct PatchEndToEndTests {
    @Test func tenConsecutivePatchesOfALiveProcessKeepPidAndState() throws {
        let workspace = try CounterWorkspace()
        let binary = try workspace.build()
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        let pid = app.pid
        #expect(app.waitForLine { $0.hasSuffix(": hello from counter") } != nil)

        var previousText = "hello from counter"
        var lastTick = 0
        for round in 1...10 {
            let text = "patched text \(round)"
            try workspace.setMessage(from: previousText, to: text)
            let table = workspace.root.appendingPathComponent("jump-table-\(round).json").path
            let mark = app.output.count
            let result = try workspace.patch(reference: reference, table: table)
            try #require(result.succeeded, "patch \(round) failed: \(result.stderrText)")
            #expect(result.stdoutText.contains("rustc"), "phase timings are printed")
            app.send(table)
            let applied = app.waitForLine(after: mark) { $0.hasPrefix("whisker: applied patch") || $0.hasPrefix("whisker: patch failed") }
            #expect(applied?.hasPrefix("whisker: applied patch") == true, "round \(round): \(applied ?? "no answer")")
            let line = try #require(app.waitForLine(after: mark) { $0.hasSuffix(": \(text)") }, "round \(round): \(app.output.suffix(5))")
            let tick = try #require(tickNumber(line))
            #expect(tick > lastTick, "the counter continues across patches")
            lastTick = tick
            #expect(app.isRunning && app.pid == pid)
            previousText = text
        }
        // The table is what apply_json reads: our shape, runtime addresses for this process.
        let tableText = try String(contentsOfFile: workspace.root.appendingPathComponent("jump-table-10.json").path, encoding: .utf8)
        let table = try #require(try JSONSerialization.jsonObject(with: Data(tableText.utf8)) as? [String: Any])
        #expect(table["aslrReference"] as? String == reference)
        #expect(table["patchId"] as? Int == 10)
        #expect(((table["map"] as? [[String]])?.count ?? 0) > 0)
    }

    @Test func compileErrorFailsWithDiagnosticsAndTheNextGoodEditPatches() throws {
        let workspace = try CounterWorkspace()
        let binary = try workspace.build()
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        let table = workspace.root.appendingPathComponent("table.json").path

        try workspace.editMain { $0.replacingOccurrences(of: "\"hello from counter\"", with: "\"broken\" +") }
        let failed = try workspace.patch(reference: reference, table: table)
        #expect(!failed.succeeded)
        #expect(failed.stderrText.contains("error"), "rustc's diagnostics reach the user")
        #expect(failed.stderrText.contains("main.rs"), "diagnostics point at the source: \(failed.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: table))
        // The app keeps running its old code.
        let mark = app.output.count
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": hello from counter") } != nil)

        try workspace.editMain { $0.replacingOccurrences(of: "\"broken\" +", with: "\"fixed after error\"") }
        let good = try workspace.patch(reference: reference, table: table, ["--json"])
        try #require(good.succeeded, "\(good.stderrText)")
        let plan = try #require(try JSONSerialization.jsonObject(with: good.stdout) as? [String: Any])
        #expect(plan["cratesRebuilt"] as? [String] == ["counter"])
        #expect((plan["phases"] as? [[String: Any]])?.map { $0["name"] as? String } .contains("link") == true)
        app.send(table)
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": fixed after error") } != nil)
    }

    /// A thread-local added by the edit can't exist in a running process (its static TLS block is
    /// fixed): a clear error, the app keeps its code, and the next edit without it patches.
    @Test func aNewThreadLocalIsAClearErrorAndTheNextEditPatches() throws {
        let workspace = try CounterWorkspace()
        let binary = try workspace.build()
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        let table = workspace.root.appendingPathComponent("table.json").path
        try workspace.editMain {
            $0.replacingOccurrences(of: "    \"hello from counter\"\n", with: """
                    thread_local! { static SEEN: std::cell::Cell<u32> = const { std::cell::Cell::new(0) }; }
                    SEEN.with(|seen| seen.set(seen.get() + 1));
                    "with a new thread-local"

                """)
        }
        let refused = try workspace.patch(reference: reference, table: table)
        #expect(!refused.succeeded)
        #expect(refused.stderrText.contains("adds the thread-local"), "\(refused.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: table))
        let mark = app.output.count
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": hello from counter") } != nil)

        try workspace.editMain { $0.replacingOccurrences(of: "SEEN.with(|seen| seen.set(seen.get() + 1));", with: "") }
        try workspace.editMain {
            $0.replacingOccurrences(of: "thread_local! { static SEEN: std::cell::Cell<u32> = const { std::cell::Cell::new(0) }; }", with: "")
        }
        let good = try workspace.patch(reference: reference, table: table)
        try #require(good.succeeded, "\(good.stderrText)")
        app.send(table)
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": with a new thread-local") } != nil, "\(app.output.suffix(5))")
    }

    /// The counter never uses a `HashSet` or a `BTreeMap`: std code it never called must still be in
    /// the running executable (the fat build links every Rust library whole), since the patch
    /// binds to the executable's std rather than carrying its own.
    @Test func anEditUsingStdCodeTheAppNeverCalledPatches() throws {
        let workspace = try CounterWorkspace()
        let binary = try workspace.build()
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        let table = workspace.root.appendingPathComponent("table.json").path
        try workspace.editMain {
            $0.replacingOccurrences(of: "    \"hello from counter\"\n", with: """
                    let mut map: std::collections::BTreeMap<u64, Vec<(u16, f32)>> = std::collections::BTreeMap::new();
                    map.entry(3).or_default().push((1, 2.5));
                    let set: std::collections::HashSet<i128> = [1i128, 2, 3].into_iter().collect();
                    let total = map.values().flatten().map(|(a, b)| *a as f32 * b).sum::<f32>() + set.len() as f32;
                    Box::leak(format!("std collections {total}").into_boxed_str())

                """)
        }
        let result = try workspace.patch(reference: reference, table: table)
        try #require(result.succeeded, "\(result.stderrText)")
        let mark = app.output.count
        app.send(table)
        let answer = app.waitForLine(after: mark) { $0.hasPrefix("whisker: applied patch") || $0.hasPrefix("whisker: patch failed") }
        #expect(answer?.hasPrefix("whisker: applied patch") == true, "\(answer ?? "no answer")")
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": std collections 5.5") } != nil, "\(app.output.suffix(5))")
    }

    /// A static the first patch adds lives in that patch's library; the second patch (another
    /// edit of the same function) keeps counting on it instead of starting a fresh copy.
    @Test func aStaticAddedByOnePatchKeepsCountingInTheNext() throws {
        let workspace = try CounterWorkspace()
        let binary = try workspace.build()
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        let table = workspace.root.appendingPathComponent("table.json").path
        try workspace.editMain {
            $0.replacingOccurrences(of: "    \"hello from counter\"\n", with: """
                    static SEEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                    let seen = SEEN.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    Box::leak(format!("first patch seen {seen}").into_boxed_str())

                """)
        }
        let first = try workspace.patch(reference: reference, table: table, ["--json"])
        try #require(first.succeeded, "\(first.stderrText)")
        let firstPlan = try #require(try JSONSerialization.jsonObject(with: first.stdout) as? [String: Any])
        #expect(((firstPlan["statics"] as? [String: Any])?["newStatics"] as? [String])?.contains { $0.contains("4SEEN") } == true)
        var mark = app.output.count
        app.send(table)
        #expect(app.waitForLine(after: mark) { $0.contains(": first patch seen 3") } != nil, "\(app.output.suffix(5))")

        try workspace.editMain { $0.replacingOccurrences(of: "first patch seen", with: "second patch seen") }
        let second = try workspace.patch(reference: reference, table: table, ["--json"])
        try #require(second.succeeded, "\(second.stderrText)")
        let secondPlan = try #require(try JSONSerialization.jsonObject(with: second.stdout) as? [String: Any])
        #expect(((secondPlan["statics"] as? [String: Any])?["earlierPatchStatics"] as? [String])?.contains { $0.contains("4SEEN") } == true)
        mark = app.output.count
        app.send(table)
        let line = try #require(app.waitForLine(after: mark) { $0.contains(": second patch seen ") }, "\(app.output.suffix(5))")
        let seen = Int(line.split(separator: " ").last ?? "") ?? 0
        #expect(seen > 3, "the static the first patch added restarted: \(line)")
    }

    /// A release build: the runtime's anchor must not collide with rustc's entry point when
    /// inlined, and ThinLTO's `.llvm.<n>` names in the executable must still pair with the patch's
    /// plain ones (the hot call's trampoline is one of them).
    @Test func aReleaseBuildPatches() throws {
        let workspace = try CounterWorkspace()
        let binary = try workspace.build(release: true)
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        let table = workspace.root.appendingPathComponent("table.json").path
        try workspace.setMessage(from: "hello from counter", to: "patched in release")
        let result = try workspace.patch(reference: reference, table: table)
        try #require(result.succeeded, "\(result.stderrText)")
        let mark = app.output.count
        app.send(table)
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": patched in release") } != nil, "\(app.output.suffix(5))")
    }

    /// `WHISKER_LINK_MODE=per-device`: the fallback link, one library for this process's slide,
    /// still patches (its statics start fresh; the shared link is the default for that reason).
    @Test func thePerDeviceLinkStillPatches() throws {
        let workspace = try CounterWorkspace()
        let binary = try workspace.build()
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        let table = workspace.root.appendingPathComponent("table.json").path
        try workspace.setMessage(from: "hello from counter", to: "linked per device")
        let result = try workspace.patch(reference: reference, table: table, ["--json"], environment: ["WHISKER_LINK_MODE": "per-device"])
        try #require(result.succeeded, "\(result.stderrText)")
        let plan = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        #expect((plan["library"] as? [String: Any])?["linkMode"] as? String == "per-device")
        #expect(plan["statics"] == nil)
        let mark = app.output.count
        app.send(table)
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": linked per device") } != nil, "\(app.output.suffix(5))")
    }

    @Test func badInputIsOneClearErrorLine() throws {
        let workspace = try CounterWorkspace()
        let table = workspace.root.appendingPathComponent("t.json").path

        // Patch before any build.
        let beforeBuild = try workspace.patch(reference: "0x1000", table: table)
        #expect(beforeBuild.exitStatus == 1)
        #expect(beforeBuild.stderrText.contains("no build"))

        // A project without Cargo.toml.
        let noCargo = try workspace.whiskerDev([
            "patch", "--project", workspace.root.path, "--aslr-reference", "0x1000", "--jump-table-out", table,
        ])
        #expect(noCargo.exitStatus == 1)
        #expect(noCargo.stderrText.contains("Cargo.toml"))

        // A malformed --aslr-reference.
        let badReference = try workspace.patch(reference: "0xnothex", table: table)
        #expect(badReference.exitStatus == 1)
        #expect(badReference.stderrText.contains("aslr-reference"))

        for result in [beforeBuild, noCargo, badReference] {
            let lines = result.stderrText.split(separator: "\n")
            #expect(lines.count == 1, "one line, got: \(result.stderrText)")
        }
    }
}
