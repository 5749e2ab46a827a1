import Foundation
import Testing

/// Issue 13's hot restart, live: an edit the running build can't take (a new feature in
/// Cargo.toml, with a text change) is refused, the server fat-builds it on its own, and the app
/// replaces itself with the new binary — same pid, new build id, the new text, the count it had
/// (state saved across the restart) — after which a patchable edit patches the restarted process.
@Suite(.serialized) struct RestartEndToEndTests {
    @Test func anUnpatchableEditRestartsTheAppIntoANewBuildThatThenTakesPatches() throws {
        try withServedCounter { workspace, server, build, app in
            let pid = app.pid

            let before = try server.request("GET", "/api/devices").json?["devices"] as? [[String: Any]] ?? []
            let oldDevice = try #require(before.first?["id"] as? String, "\(before)")

            // One save: a feature in Cargo.toml (only a fat build has it) and new text.
            let manifest = workspace.project.appendingPathComponent("Cargo.toml")
            try (try String(contentsOf: manifest, encoding: .utf8) + "\n[features]\nloud = []\n").write(to: manifest, atomically: false, encoding: .utf8)
            try workspace.setMessage(from: "hello from counter", to: "after restart")
            let mark = app.output.count
            let restarting = app.waitForLine(after: mark, timeout: 240) { $0.contains("whisker-hot: restarting into build") }
            try #require(restarting != nil, "no restart: \(app.output.suffix(8))")
            let newBuild = String(restarting?.split(separator: " ").dropFirst(4).first ?? "")
            #expect(newBuild != build.id && !newBuild.isEmpty, "\(restarting ?? "")")
            let first = app.waitForLine(after: mark, timeout: 60) { $0.hasPrefix("tick ") && $0.hasSuffix(": after restart") }
            #expect(first != nil, "the new binary runs: \(app.output.suffix(8))")
            expectCountCarriedOver(app, from: mark, firstTick: first)
            #expect(app.isRunning && app.pid == pid, "the same process, replaced in place")

            // The refused patch says why; the new process registers as the old device's successor,
            // which is then done (not `restarting`, never `lost`).
            let patches = try server.request("GET", "/api/patches").json?["patches"] as? [[String: Any]] ?? []
            #expect(patches.contains { $0["state"] as? String == "failed" && $0["patchable"] as? Bool == false }, "\(patches)")
            #expect(app.waitForLine(after: mark, timeout: 30) { $0.contains("registered with") } != nil, "the new process registers")
            let devices = try server.request("GET", "/api/devices").json?["devices"] as? [[String: Any]] ?? []
            #expect(devices.contains { $0["buildId"] as? String == newBuild && $0["restartedFrom"] as? String == oldDevice }, "\(devices)")
            #expect(!devices.contains { $0["id"] as? String == oldDevice }, "the old device is replaced: \(devices)")
            #expect(server.process.waitForLine(timeout: 10) { $0.contains("device \(oldDevice) restarted into build \(newBuild)") } != nil,
                    "the CLI log says so: \(server.process.output.suffix(5))")
            let binary = try server.request("GET", "/api/builds/\(newBuild)/binary")
            #expect(binary.status == 200)

            // Patchable again, in the restarted process.
            let later = app.output.count
            try workspace.setMessage(from: "after restart", to: "patched after restart")
            #expect(app.waitForLine(after: later, timeout: 120) { $0.hasSuffix(": patched after restart") } != nil, "\(app.output.suffix(8))")
            #expect(app.isRunning && app.pid == pid)
        }
    }

    /// A new `thread_local!` (no library loaded later can add one), a new dependency from
    /// Debian's crates (Cargo.toml, cargo's config, Cargo.lock) and a new build script (its output
    /// reaches the code through `env!`): each restarts the app into a build that has it, by itself.
    @Test(arguments: ["thread-local", "dependency", "build-script"])
    func editsOnlyABuildCanCarryRestartTheApp(_ kind: String) throws {
        try withServedCounter { workspace, server, build, app in
            let pid = app.pid

            let text: String
            if kind == "thread-local" {
                text = "counted per thread 1"
                try workspace.editMain {
                    $0.replacingOccurrences(of: "fn message() -> &'static str {\n    \"hello from counter\"\n}", with: """
                        thread_local! { static CALLS: std::cell::Cell<u64> = std::cell::Cell::new(0); }

                        fn message() -> String {
                            let calls = CALLS.with(|calls| { calls.set(calls.get() + 1); calls.get() });
                            format!("counted per thread {}", calls.min(1))
                        }
                        """)
                }
            } else if kind == "build-script" {
                text = "greeting from build.rs"
                try "fn main() {\n    println!(\"cargo:rustc-env=WHISKER_GREETING=greeting from build.rs\");\n}\n"
                    .write(to: workspace.project.appendingPathComponent("build.rs"), atomically: false, encoding: .utf8)
                try workspace.editMain {
                    $0.replacingOccurrences(of: "fn message() -> &'static str {\n    \"hello from counter\"\n}", with: """
                        fn message() -> &'static str {
                            env!("WHISKER_GREETING")
                        }
                        """)
                }
            } else {
                text = "lazy from once_cell"
                let config = workspace.project.appendingPathComponent(".cargo/config.toml")
                try (try String(contentsOf: config, encoding: .utf8) + """

                    [source.crates-io]
                    replace-with = "debian"

                    [source.debian]
                    directory = "/usr/share/cargo/registry"

                    [net]
                    offline = true

                    """).write(to: config, atomically: false, encoding: .utf8)
                let manifest = workspace.project.appendingPathComponent("Cargo.toml")
                try (try String(contentsOf: manifest, encoding: .utf8)).replacingOccurrences(
                    of: "[dependencies]\n", with: "[dependencies]\nonce_cell = \"1\"\n").write(to: manifest, atomically: false, encoding: .utf8)
                try workspace.editMain {
                    $0.replacingOccurrences(of: "fn message() -> &'static str {\n    \"hello from counter\"\n}", with: """
                        static TEXT: once_cell::sync::Lazy<String> = once_cell::sync::Lazy::new(|| "lazy from once_cell".to_string());

                        fn message() -> &'static str {
                            TEXT.as_str()
                        }
                        """)
                }
            }
            let mark = app.output.count
            let restarting = app.waitForLine(after: mark, timeout: 300) { $0.contains("whisker-hot: restarting into build") }
            try #require(restarting != nil, "\(kind): no restart: \(app.output.suffix(8))")
            let line = app.waitForLine(after: mark, timeout: 60) { $0.hasPrefix("tick ") && $0.hasSuffix(": \(text)") }
            #expect(line != nil, "\(kind): the new binary runs: \(app.output.suffix(8))")
            expectCountCarriedOver(app, from: mark, firstTick: line)
            #expect(app.isRunning && app.pid == pid, "\(kind): the same process, replaced in place")
            let patches = try server.request("GET", "/api/patches").json?["patches"] as? [[String: Any]] ?? []
            let refused = patches.first { $0["patchable"] as? Bool == false }
            let codes = (refused?["reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
            let expected: Bool
            switch kind {
            case "thread-local": expected = codes == ["new_thread_local"]
            case "build-script": expected = codes.contains("build_script_changed")
            default: expected = codes.contains("manifest_changed") && codes.contains("cargo_config_changed")
            }
            #expect(expected, "\(kind): \(codes)")
        }
    }
    /// A field added to the state `main` keeps: the layout check refuses the patch (the reason
    /// names `counter::State` and its sizes), the app restarts by itself into a build with the
    /// field (a fresh `generation` of 0, not the misread old memory), and the next, patchable
    /// edit patches the restarted process.
    @Test func aStructFieldAddedRestartsTheAppAndTheNextEditPatchesIt() throws {
        try withServedCounter { workspace, server, build, app in
            let pid = app.pid
            // Bound before #expect: Swift 6.3.1 (debug) ran this closure again as the next
            // waitForLine's predicate when it sat inside the #expect macro.
            let third = app.waitForLine { $0.hasPrefix("tick 3:") }
            #expect(third != nil)

            let mark = app.output.count
            try workspace.editMain(PatchabilityEndToEndTests.addGenerationField)
            let restarting = app.waitForLine(after: mark, timeout: 240) { $0.contains("whisker-hot: restarting into build") }
            try #require(restarting != nil, "no restart: \(app.output.suffix(8))")
            #expect(app.output[mark...].allSatisfy { !$0.contains("applied patch") }, "no patch reached the app")
            let first = app.waitForLine(after: mark, timeout: 60) { $0.hasPrefix("tick ") && $0.hasSuffix(": hello from counter (generation 0)") }
            #expect(first != nil, "the new binary runs: \(app.output.suffix(8))")
            expectCountCarriedOver(app, from: mark, firstTick: first)
            #expect(app.isRunning && app.pid == pid, "the same process, replaced in place")

            let patches = try server.request("GET", "/api/patches").json?["patches"] as? [[String: Any]] ?? []
            let reasons = patches.first { $0["patchable"] as? Bool == false }?["reasons"] as? [[String: Any]] ?? []
            let layout = reasons.first { $0["code"] as? String == "type_layout_changed" }
            #expect(layout?["type"] as? String == "counter::State", "\(reasons)")
            #expect(layout?["oldSize"] as? Int == 8 && layout?["newSize"] as? Int == 16, "\(reasons)")
            #expect((layout?["message"] as? String)?.contains("8 → 16 bytes") == true, "\(reasons)")

            #expect(app.waitForLine(after: mark, timeout: 30) { $0.contains("registered with") } != nil, "the new process registers")
            let later = app.output.count
            try workspace.setMessage(from: "hello from counter", to: "patched after the field")
            #expect(app.waitForLine(after: later, timeout: 120) { $0.hasSuffix(": patched after the field (generation 0)") } != nil,
                    "\(app.output.suffix(8))")
            #expect(app.isRunning && app.pid == pid)
        }
    }

    /// The new process image (it says so at start) went on counting from where the old one was:
    /// the counter saves its count in `whisker_hot::on_save_state`'s hook, the server keeps the
    /// bytes, and the new process reads them with `whisker_hot::restored_state`. The hook runs
    /// just before the process is replaced, so the count is the last one printed before the
    /// restart, or the one before it (a tick can land between the save and the log line).
    private func expectCountCarriedOver(_ app: RunningProcess, from mark: Int, firstTick first: String?,
                                        sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = Array(app.output[mark...])
        guard let restart = lines.firstIndex(where: { $0.contains("whisker-hot: restarting into build") }) else {
            Issue.record("no restart line: \(lines.suffix(8))", sourceLocation: sourceLocation)
            return
        }
        let lastBefore = (app.output[..<mark] + lines[..<restart]).compactMap(tickNumber).last ?? 0
        #expect(lines[..<restart].contains { $0.contains("whisker-hot: saved 8 bytes of state") }, "\(lines.suffix(8))",
                sourceLocation: sourceLocation)
        let newImage = lines[restart...].firstIndex { $0.hasPrefix("whisker: aslr_reference=") }
        #expect(newImage != nil, "the new binary starts from main: \(lines.suffix(8))", sourceLocation: sourceLocation)
        let prefix = "whisker: restored state: ticks="
        let restored = lines[restart...].first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
        #expect(restored.map { (lastBefore - 1)...lastBefore ~= $0 } == true,
                "restored \(restored.map(String.init) ?? "nothing"), last tick before the restart \(lastBefore)", sourceLocation: sourceLocation)
        #expect(first.flatMap(tickNumber) == restored.map { $0 + 1 }, "it counts on: \(first ?? "no tick")", sourceLocation: sourceLocation)
    }
}
