import Foundation
import Hotpatch
import Testing

/// Issue 5's promise: the status page, in headless Chromium, shows the device, each patch with its
/// timings, the device's applied state, a revert from its button (issue 13), a failed patch with
/// the compiler's message, and keeps its history across a server restart, following the live
/// stream again by itself; its hot-restart button and the reasons an edit is not patchable.
@Suite(.serialized) struct StatusPageEndToEndTests {
    /// The page driver (tests/web/page_test.py) in interactive mode.
    final class PageDriver {
        let process: RunningProcess

        init(url: String) throws {
            let script = BuiltProducts.repositoryRoot.appendingPathComponent("tests/web/page_test.py").path
            process = try RunningProcess(
                executable: "/usr/bin/env",
                arguments: ["python3", script, url + "/", "--interactive", "--width", "1280", "--height", "1000",
                            "--expect", "document.querySelector('#connection[data-state=\"connected\"]')"])
            guard process.waitForLine(timeout: 60, { $0.hasPrefix("page_test:") })?.contains("expectations hold") == true else {
                throw CounterWorkspaceError("the page did not load: \(process.output)")
            }
        }

        /// Waits until every selector matches; returns nil or the driver's failure text.
        func expect(_ selectors: [String], timeout: Int = 60) -> String? {
            let expressions = selectors.map { "document.querySelector(\(Self.quoted($0)))" }
            return command(["expect": expressions, "timeout": timeout])
        }

        func screenshot(to path: String) -> String? { command(["screenshot": path]) }

        /// Clicks the element `selector` matches once it exists; nil or the driver's failure text.
        func click(_ selector: String, timeout: Int = 60) -> String? {
            // The driver re-evaluates until the value is truthy: the element is clicked once.
            let expression = "(() => { const node = document.querySelector(\(Self.quoted(selector))); node?.click(); return node; })()"
            return command(["expect": [expression], "timeout": timeout])
        }

        private func command(_ object: [String: Any]) -> String? {
            let mark = process.output.count
            guard let data = try? JSONSerialization.data(withJSONObject: object) else { return "cannot encode" }
            process.send(String(decoding: data, as: UTF8.self))
            guard let answer = process.waitForLine(after: mark, timeout: 120, { $0 == "ok" || $0.hasPrefix("fail") }) else {
                return "no answer from the page driver: \(process.output.suffix(5))"
            }
            return answer == "ok" ? nil : answer
        }

        static func quoted(_ text: String) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
            return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
        }

        deinit { process.terminate() }
    }

    static var hasBrowser: Bool {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.enabled(if: hasBrowser || ProcessInfo.processInfo.environment["CI"] != nil, "needs Debian's chromium"))
    func pageShowsDevicesPatchesFailuresAndSurvivesARestart() throws {
        let workspace = try CounterWorkspace()
        var server = try DevServerProcess(workspace: workspace)
        let build = try server.waitForBuild()
        let (app, _) = try server.launchDevice(build: build)
        defer { app.terminate() }
        #expect(app.waitForLine { $0.contains("registered with") } != nil)
        let page = try PageDriver(url: server.url)
        #expect(page.expect(["#devices [data-device-id][data-state]", "#build[data-state=\"succeeded\"]"]) == nil)

        // A save: the page shows the new patch with its timings and the device's applied state.
        try workspace.setMessage(from: "hello from counter", to: "seen on the page")
        #expect(app.waitForLine(timeout: 60) { $0.hasSuffix(": seen on the page") } != nil)
        let shown = page.expect([
            "#patches [data-patch-id=\"1\"][data-state=\"succeeded\"] [data-phase=\"rustc\"]",
            "#patches [data-patch-id=\"1\"][data-state=\"succeeded\"] [data-phase=\"link\"]",
            "#patches [data-patch-id=\"1\"] [data-link-mode=\"shared\"]",
            "#patches [data-patch-id=\"1\"] .applied",
            "#devices [data-state=\"up_to_date\"]",
        ])
        #expect(shown == nil, "\(shown ?? "")")
        let screenshot = BuiltProducts.repositoryRoot.appendingPathComponent("docs/status-page.png").path
        #expect(page.screenshot(to: screenshot) == nil)

        // Patch 1's Revert button: a revert record (patch 2) puts the app back on the fat build's code.
        var mark = app.output.count
        #expect(page.click("#patches [data-patch-id=\"1\"] button.revert") == nil)
        let reverted = page.expect(["#patches > li:first-child[data-patch-id=\"2\"][data-state=\"succeeded\"] .revert-of"])
        #expect(reverted == nil, "\(reverted ?? "")")
        #expect(app.waitForLine(after: mark, timeout: 60) { $0.hasSuffix(": hello from counter") } != nil, "\(app.output.suffix(5))")

        // A compile error shows with the compiler's message; the next good save replaces it on top.
        try workspace.editMain { $0.replacingOccurrences(of: "\"seen on the page\"", with: "\"broken\" +") }
        let failed = page.expect(["#patches > li:first-child[data-patch-id=\"3\"][data-state=\"failed\"] pre.output"])
        #expect(failed == nil, "\(failed ?? "")")
        try workspace.editMain { $0.replacingOccurrences(of: "\"broken\" +", with: "\"fixed on the page\"") }
        mark = app.output.count
        let fixed = page.expect(["#patches > li:first-child[data-patch-id=\"4\"][data-state=\"succeeded\"]"])
        #expect(fixed == nil, "\(fixed ?? "")")
        #expect(app.waitForLine(after: mark, timeout: 60) { $0.hasSuffix(": fixed on the page") } != nil)

        // Restart on the same port: the page reconnects by itself and keeps the same history, then
        // follows new events (a fourth patch) again.
        let port = try #require(server.url.split(separator: ":").last.map(String.init))
        #expect(server.interrupt() == 0)
        #expect(page.expect(["#connection:not([data-state=\"connected\"])"], timeout: 20) == nil)
        server = try DevServerProcess(workspace: workspace, extraArguments: ["--port", port])
        defer { _ = server.interrupt() }
        let again = page.expect([
            "#connection[data-state=\"connected\"]",
            "#patches [data-patch-id=\"1\"][data-state=\"succeeded\"]",
            "#patches [data-patch-id=\"2\"][data-state=\"succeeded\"] .revert-of",
            "#patches [data-patch-id=\"3\"][data-state=\"failed\"]",
            "#patches [data-patch-id=\"4\"][data-state=\"succeeded\"]",
        ])
        #expect(again == nil, "\(again ?? "")")
        try workspace.editMain { $0.replacingOccurrences(of: "\"fixed on the page\"", with: "\"after the restart\"") }
        let live = page.expect(["#patches > li:first-child[data-patch-id=\"5\"][data-state=\"succeeded\"]"])
        #expect(live == nil, "\(live ?? "")")
    }

    /// Issue 13 on the page: its "Hot restart" button restarts the app into a new build (the
    /// device then shows whom it restarted from), and an edit no patch can carry shows why.
    @Test(.enabled(if: hasBrowser || ProcessInfo.processInfo.environment["CI"] != nil, "needs Debian's chromium"))
    func pageRestartsTheAppsAndSaysWhyAnEditIsNotPatchable() throws {
        let workspace = try CounterWorkspace()
        let server = try DevServerProcess(workspace: workspace)
        defer { _ = server.interrupt() }
        let build = try server.waitForBuild()
        let (app, _) = try server.launchDevice(build: build)
        defer { app.terminate() }
        #expect(app.waitForLine { $0.contains("registered with") } != nil)
        let page = try PageDriver(url: server.url)
        #expect(page.expect(["#devices [data-device-id][data-state=\"connected\"]", "#build[data-state=\"succeeded\"]"]) == nil)

        var mark = app.output.count
        #expect(page.click("#hot-restart") == nil)
        #expect(app.waitForLine(after: mark, timeout: 240) { $0.contains("whisker-hot: restarting into build") } != nil,
                "\(app.output.suffix(5))")
        #expect(app.waitForLine(after: mark, timeout: 30) { $0.contains("registered with") } != nil)
        let restarted = page.expect(["#devices [data-device-id] .restarted"])
        #expect(restarted == nil, "\(restarted ?? "")")

        mark = app.output.count
        let manifest = workspace.project.appendingPathComponent("Cargo.toml")
        try (try String(contentsOf: manifest, encoding: .utf8) + "\n[features]\nloud = []\n").write(to: manifest, atomically: false, encoding: .utf8)
        let refused = page.expect(["#patches [data-state=\"failed\"] .reasons [data-code=\"manifest_changed\"]"], timeout: 120)
        #expect(refused == nil, "\(refused ?? "")")
        #expect(app.waitForLine(after: mark, timeout: 240) { $0.contains("whisker-hot: restarting into build") } != nil,
                "and the app restarts into the build that has it: \(app.output.suffix(5))")
    }
}
