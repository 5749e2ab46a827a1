import Foundation
import Hotpatch
import Testing

/// `--entry-patching` against a live process: a function called *directly* by unchanged code in
/// another thread (never through `whisker_hot::call`) runs its new code once its entry is patched,
/// and does not without the flag — from `whisker-dev patch` and from `whisker-dev serve`.
@Suite(.serialized) struct EntryPatchingEndToEndTests {
    @Test func aDirectlyCalledFunctionRunsNewCodeOnlyWithEntryPatching() throws {
        let workspace = try Self.directCallerWorkspace()
        let binary = try workspace.build()
        let (app, reference) = try workspace.launch(binary: binary)
        defer { app.terminate() }
        let pid = app.pid
        #expect(app.waitForLine { $0.hasSuffix(": direct text one") } != nil, "\(app.output.suffix(5))")

        // Without the flag: the hot call runs the new code, the direct caller keeps the old.
        try workspace.editMain {
            $0.replacingOccurrences(of: "direct text one", with: "direct text two")
                .replacingOccurrences(of: "hot text one", with: "hot text two")
        }
        let first = try patch(workspace, reference: reference, round: 1, entryPatching: false)
        #expect(first.table["entryPatches"] == nil, "no entryPatches without the flag")
        var mark = app.output.count
        app.send(first.path)
        #expect(app.waitForLine(after: mark) { $0.hasPrefix("whisker: applied patch 1 (0 entries patched") } != nil, "\(app.output.suffix(5))")
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": hot text two") } != nil, "\(app.output.suffix(5))")
        mark = app.output.count
        let laterStatus = try #require(app.waitForLine(after: mark + 4) { $0.hasPrefix("status ") }, "\(app.output.suffix(5))")
        #expect(laterStatus.hasSuffix(": direct text one"), "the direct caller still runs the old code: \(laterStatus)")

        // With the flag: the changed function's entry jumps to the new code; its unchanged caller
        // in the other thread runs it, the count continuing, same pid.
        try workspace.editMain { $0.replacingOccurrences(of: "direct text two", with: "direct text three") }
        let second = try patch(workspace, reference: reference, round: 2, entryPatching: true)
        #expect(second.output.contains("entry patches 1"), "\(second.output)")
        let patches = try #require(second.table["entryPatches"] as? [[Any]], "\(second.table)")
        #expect(patches.count == 1, "only the changed function: \(patches)")
        let routed = try #require(second.table["map"] as? [[String]])
        #expect(routed.count > patches.count, "the map still routes every entry point")
        let entry = try #require(patches.first)
        let size = try #require(entry[2] as? Int)
        #expect(size >= 14 && (entry[0] as? String).flatMap(HexAddress.parse) != nil)

        let statusBefore = try #require(app.output.last { $0.hasPrefix("status ") }.flatMap(Self.statusNumber))
        mark = app.output.count
        app.send(second.path)
        let applied = app.waitForLine(after: mark) { $0.hasPrefix("whisker: applied patch") || $0.hasPrefix("whisker: patch failed") }
        #expect(applied == "whisker: applied patch 2 (1 entries patched, 0 skipped)", "\(applied ?? "no answer")")
        let line = try #require(app.waitForLine(after: mark) { $0.hasSuffix(": direct text three") }, "\(app.output.suffix(6))")
        let statusAfter = try #require(Self.statusNumber(line))
        #expect(statusAfter > statusBefore, "the direct caller's loop continues")
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": hot text two") } != nil, "hot calls still route")

        // Chained: changed again, the same old entry is rewritten to the newest code.
        try workspace.editMain { $0.replacingOccurrences(of: "direct text three", with: "direct text four") }
        let third = try patch(workspace, reference: reference, round: 3, entryPatching: true)
        let thirdPatches = try #require(third.table["entryPatches"] as? [[Any]])
        #expect(thirdPatches.first?.first as? String == entry.first as? String, "the same old function")
        #expect(thirdPatches.first?[1] as? String != nil)
        mark = app.output.count
        app.send(third.path)
        #expect(app.waitForLine(after: mark) { $0 == "whisker: applied patch 3 (1 entries patched, 0 skipped)" } != nil, "\(app.output.suffix(5))")
        #expect(app.waitForLine(after: mark) { $0.hasSuffix(": direct text four") } != nil, "\(app.output.suffix(6))")
        #expect(app.isRunning && app.pid == pid)
    }

    @Test func serveWithEntryPatchingPatchesDirectCallersOfConnectedApps() throws {
        let workspace = try Self.directCallerWorkspace()
        let server = try DevServerProcess(workspace: workspace, extraArguments: ["--entry-patching"])
        defer { _ = server.interrupt() }
        let build = try server.waitForBuild()
        let (app, _) = try server.launchDevice(build: build)
        defer { app.terminate() }
        #expect(app.waitForLine { $0.contains("registered with") } != nil, "\(app.output.suffix(5))")
        #expect(app.waitForLine { $0.hasSuffix(": direct text one") } != nil)

        try workspace.editMain { $0.replacingOccurrences(of: "direct text one", with: "direct text saved") }
        #expect(app.waitForLine(timeout: 90) { $0.hasSuffix(": direct text saved") } != nil, "\(app.output.suffix(8))")
        let applied = app.output.filter { $0.contains("whisker-hot: applied patch 1") }
        #expect(applied.count == 1 && applied[0].contains("1 entries patched"), "\(applied)")
        let patch = try server.request("GET", "/api/patches/1/jump-table")
        #expect(patch.status == 200)
        #expect((patch.json?["entryPatches"] as? [Any])?.count == 1, "\(patch.text)")
    }

    // MARK: - Fixture

    /// The counter's workspace with its `main.rs` replaced by a test-local fixture: `status()` is
    /// called directly from a plain thread, `tick()` through `whisker_hot::call`.
    static func directCallerWorkspace() throws -> CounterWorkspace {
        let workspace = try CounterWorkspace()
        try workspace.editMain { _ in directCallerSource }
        return workspace
    }

    /// `whisker-dev patch` for `round`; the table file's path, its parsed JSON and stdout.
    private func patch(
        _ workspace: CounterWorkspace, reference: String, round: Int, entryPatching: Bool
    ) throws -> (path: String, table: [String: Any], output: String) {
        let path = workspace.root.appendingPathComponent("jump-table-\(round).json").path
        let result = try workspace.whiskerDev(
            ["patch", "--project", workspace.project.path, "--aslr-reference", reference, "--jump-table-out", path]
                + (entryPatching ? ["--entry-patching"] : []))
        try #require(result.succeeded, "patch \(round) failed: \(result.stderrText)")
        let table = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        return (path, table, result.stdoutText)
    }

    /// The number in a `status <n>: <text>` line.
    static func statusNumber(_ line: String) -> Int? {
        guard line.hasPrefix("status "), let colon = line.firstIndex(of: ":") else { return nil }
        return Int(line[line.index(line.startIndex, offsetBy: 7)..<colon])
    }

    static let directCallerSource = #"""
        //! Entry-patching fixture: `status()` is called directly by a plain thread, never through
        //! `whisker_hot::call`; `tick()` is the usual hot call.
        use std::io::{BufRead, Write};
        use std::time::Duration;

        struct State {
            ticks: u64,
        }

        fn status(round: u64) -> String {
            format!("status {}: {}", round, "direct text one")
        }

        fn message() -> &'static str {
            "hot text one"
        }

        fn tick(state: &mut State) {
            state.ticks += 1;
            say(&format!("tick {}: {}", state.ticks, message()));
        }

        fn say(line: &str) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }

        fn apply_table_file(path: &str) {
            let outcome = std::fs::read_to_string(path)
                .map_err(|err| format!("cannot read {path}: {err}"))
                .and_then(|text| whisker_hot::JumpTable::from_json(&text).map_err(|err| err.to_string()))
                .and_then(|table| whisker_hot::apply(&table).map_err(|err| err.to_string()));
            match outcome {
                Ok(applied) => say(&format!(
                    "whisker: applied patch {} ({} entries patched, {} skipped)",
                    applied.patch_id.unwrap_or(0),
                    applied.entry_patches_written,
                    applied.entry_patches_skipped
                )),
                Err(err) => say(&format!("whisker: patch failed: {err}")),
            }
        }

        fn main() {
            say(&format!("whisker: aslr_reference={:#x}", whisker_hot::aslr_reference()));
            whisker_hot::connect();
            let _ = std::thread::spawn(|| {
                for line in std::io::stdin().lock().lines() {
                    let Ok(line) = line else { break };
                    let path = line.trim();
                    if !path.is_empty() {
                        apply_table_file(path);
                    }
                }
            });
            // The direct caller: unchanged by every edit, so no patch ever replaces it.
            let _ = std::thread::spawn(|| {
                let mut round = 0u64;
                loop {
                    round += 1;
                    say(&status(round));
                    std::thread::sleep(Duration::from_millis(40));
                }
            });
            let mut state = State { ticks: 0 };
            loop {
                whisker_hot::call(|| tick(&mut state));
                std::thread::sleep(Duration::from_millis(40));
            }
        }
        """#
}
