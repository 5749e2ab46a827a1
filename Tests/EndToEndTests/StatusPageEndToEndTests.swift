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

        /// Waits until every JavaScript expression is truthy; nil or the driver's failure text.
        func expectTrue(_ expressions: [String], timeout: Int = 60) -> String? {
            command(["expect": expressions, "timeout": timeout])
        }

        /// The JSON text of `expression`'s value (nil when the driver did not answer).
        func evaluate(_ expression: String) -> String? {
            let mark = process.output.count
            guard let data = try? JSONSerialization.data(withJSONObject: ["evaluate": expression]) else { return nil }
            process.send(String(decoding: data, as: UTF8.self))
            return process.waitForLine(after: mark, timeout: 60) { $0.hasPrefix("value ") }.map { String($0.dropFirst("value ".count)) }
        }

        /// A JavaScript expression whose value is a JSON string, decoded.
        func evaluateJSON(_ expression: String) -> Any? {
            guard let outer = evaluate("JSON.stringify(\(expression))"),
                  let text = try? JSONSerialization.jsonObject(with: Data(outer.utf8), options: [.fragmentsAllowed]) as? String
            else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        }

        /// Resizes the viewport (under 500 px wide: a phone).
        func viewport(width: Int, height: Int) -> String? { command(["viewport": ["width": width, "height": height]]) }

        /// Emulates `prefers-color-scheme` (`dark` or `light`).
        func colorScheme(_ scheme: String) -> String? { command(["colorScheme": scheme]) }

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
        try withServedCounter { workspace, server, _, app in
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

    /// Issue 15 item 2, the page as a console: the counter prints ticks on stdout and `note <n>`
    /// on stderr (`COUNTER_STDERR_EVERY`); both show in its log pane, marked by stream, in order,
    /// within 200 ms of being printed (the line's `time`, stamped by the runtime as it reads the
    /// line, against `Date.now()` when a MutationObserver sees it inserted); the pane filters and
    /// pauses. A one-function edit lists `counter::message`, a failing edit its `file:line`, and
    /// after three applied patches and the failed one the chart has one bar per patch, split by phase
    /// (the failed one marked). Screenshots:
    /// docs/status-page-console.png (desktop), docs/status-page-console-phone.png (phone, dark).
    @Test(.enabled(if: hasBrowser || ProcessInfo.processInfo.environment["CI"] != nil, "needs Debian's chromium"))
    func pageIsAConsoleWithLogsFunctionsDiagnosticsAndAChart() throws {
        let workspace = try CounterWorkspace()
        let server = try DevServerProcess(workspace: workspace)
        defer { _ = server.interrupt() }
        let build = try server.waitForBuild()
        let (app, _) = try workspace.launch(binary: build.binary, environment: [
            "WHISKER_DEV_SERVER": server.url, "WHISKER_BUILD_ID": build.id, "COUNTER_STDERR_EVERY": "2",
        ])
        defer { app.terminate() }
        #expect(app.waitForLine { $0.contains("registered with") } != nil, "\(app.output.suffix(5))")
        #expect(app.waitForLine { $0.hasPrefix("note ") } != nil, "the app's own stderr shows its notes: \(app.output.suffix(5))")
        let page = try PageDriver(url: server.url)

        // Both streams in the device's pane, marked.
        let pane = "#logs .log-pane[data-device-id]"
        let streams = page.expect([
            "\(pane) .log-line[data-stream=\"stdout\"] .log-mark",
            "\(pane) .log-line[data-stream=\"stderr\"] .log-mark",
            "#build[data-state=\"succeeded\"]",
        ])
        #expect(streams == nil, "\(streams ?? "")")

        // Print → DOM: every line inserted while the observer watches, with its stream, text and delay.
        let watch = """
            (() => { const seen = window.__logSeen = []; new MutationObserver((records) => { const now = Date.now();
              for (const record of records) for (const node of record.addedNodes)
                if (node.classList?.contains('log-line')) seen.push([node.dataset.stream, Number(node.dataset.seq),
                  node.querySelector('.log-text').textContent, now - Date.parse(node.dataset.time)]); })
              .observe(document.getElementById('logs'), { childList: true, subtree: true }); return true; })()
            """
        #expect(page.expectTrue([watch]) == nil)
        #expect(page.expectTrue(["window.__logSeen.length >= 60"], timeout: 30) == nil)
        let seen = page.evaluateJSON("window.__logSeen") as? [[Any]] ?? []
        let lines = seen.compactMap { entry -> (stream: String, seq: Int, text: String, ms: Double)? in
            guard entry.count == 4, let stream = entry[0] as? String, let seq = entry[1] as? Int,
                  let text = entry[2] as? String, let ms = entry[3] as? Double ?? (entry[3] as? Int).map(Double.init)
            else { return nil }
            return (stream, seq, text, ms)
        }
        #expect(lines.count >= 60, "\(seen.prefix(5))")
        #expect(lines.map(\.seq) == lines.map(\.seq).sorted(), "inserted in seq order")
        func numbers(_ prefix: String, _ stream: String) -> [Int] {
            lines.filter { $0.stream == stream && $0.text.hasPrefix(prefix) }.compactMap { line in
                Int(line.text.dropFirst(prefix.count).prefix { $0.isNumber })
            }
        }
        let ticks = numbers("tick ", "stdout")
        let notes = numbers("note ", "stderr")
        #expect(ticks.count >= 30 && ticks == Array((ticks.first ?? 0)..<((ticks.first ?? 0) + ticks.count)), "stdout in order: \(ticks)")
        #expect(notes.count >= 10 && zip(notes, notes.dropFirst()).allSatisfy { $1 == $0 + 2 }, "stderr in order: \(notes)")
        #expect(!lines.contains { $0.stream == "stdout" && $0.text.hasPrefix("note ") }, "notes are marked stderr")
        for stream in ["stdout", "stderr"] {
            let delays = lines.filter { $0.stream == stream }.map(\.ms).sorted()
            let worst = delays.last ?? .infinity
            print("status page log pane, \(stream): \(delays.count) lines, median \(Int(delays[delays.count / 2])) ms, worst \(Int(worst)) ms from print to DOM")
            #expect(worst <= 200, "\(stream): \(delays.map { Int($0) })")
        }

        // Filter to stderr's notes, then pause: nothing new shows until Resume.
        let filter = """
            (() => { const input = document.querySelector('\(pane) .log-filter'); input.value = 'note';
              input.dispatchEvent(new Event('input')); return true; })()
            """
        #expect(page.expectTrue([filter]) == nil)
        let visible = "[...document.querySelectorAll('\(pane) .log-line')].filter((node) => !node.hidden)"
        #expect(page.expectTrue(["\(visible).length > 0 && \(visible).every((node) => node.dataset.stream === 'stderr')"]) == nil)
        #expect(page.click("\(pane) .log-pause") == nil)
        let count = "document.querySelectorAll('\(pane) .log-line').length"
        let before = page.evaluate(count)
        Thread.sleep(forTimeInterval: 0.6)
        #expect(page.evaluate(count) == before, "paused: no new lines")
        #expect(page.expectTrue(["document.querySelector('\(pane) .log-pause').textContent.startsWith('Resume (')"]) == nil)
        #expect(page.click("\(pane) .log-pause[aria-pressed=\"true\"]") == nil)
        #expect(page.expectTrue(["\(count) > \(before ?? "0")"]) == nil, "resumed: the held lines show")
        let unfilter = """
            (() => { const input = document.querySelector('\(pane) .log-filter'); input.value = '';
              input.dispatchEvent(new Event('input')); return true; })()
            """
        #expect(page.expectTrue([unfilter]) == nil)

        // A one-function edit: the patch lists the function, demangled, and the crate rebuilt.
        try workspace.setMessage(from: "hello from counter", to: "one function")
        let named = page.expectTrue([
            "[...document.querySelectorAll('#patches [data-patch-id=\"1\"][data-state=\"succeeded\"] .functions [data-change=\"changed\"] code')].some((node) => node.textContent === 'counter::message')",
            "document.querySelector('#patches [data-patch-id=\"1\"] .functions summary')?.textContent.includes('crates rebuilt: counter')",
        ])
        #expect(named == nil, "\(named ?? "")")

        // A failing edit: its diagnostics as file:line above rustc's output.
        try workspace.editMain { $0.replacingOccurrences(of: "\"one function\"", with: "\"broken\" +") }
        let located = page.expectTrue([
            "[...document.querySelectorAll('#patches [data-patch-id=\"2\"][data-state=\"failed\"] .diagnostics li[data-severity=\"error\"] .location')].some((node) => /^src\\/main\\.rs:\\d+:\\d+$/.test(node.textContent))",
            "document.querySelector('#patches [data-patch-id=\"2\"] .diagnostics + pre.output')",
        ])
        #expect(located == nil, "\(located ?? "")")

        // Two more applied patches: three bars, one per patch, each split into phases.
        try workspace.editMain { $0.replacingOccurrences(of: "\"broken\" +", with: "\"fixed\"") }
        #expect(page.expect(["#patches [data-patch-id=\"3\"][data-state=\"succeeded\"] .applied"]) == nil)
        try workspace.setMessage(from: "fixed", to: "third patch")
        #expect(page.expect(["#patches [data-patch-id=\"4\"][data-state=\"succeeded\"] .applied"]) == nil)
        #expect(app.waitForLine(timeout: 60) { $0.hasSuffix(": third patch") } != nil)
        let bars = "[...document.querySelectorAll('#patch-chart g.bar')]"
        let chart = page.expectTrue([
            "\(bars).map((bar) => bar.dataset.patchId).join(',') === '1,2,3,4'",
            "\(bars).filter((bar) => bar.dataset.state === 'succeeded').every((bar) => bar.querySelectorAll('rect[data-segment]').length >= 3 && bar.querySelector('rect[data-segment=\"rustc\"]'))",
            // The failing edit stays in the timeline, marked, up to where it stopped.
            "document.querySelector('#patch-chart g.bar.failed').querySelectorAll('rect[data-segment]').length >= 1",
            "\(bars).filter((bar) => bar.classList.contains('failed')).map((bar) => bar.dataset.patchId).join(',') === '2'",
            "document.querySelector('#patch-chart g.bar.failed .chart-value').textContent.startsWith('✗ ')",
            "document.querySelector('#chart .chart-legend [data-segment=\"rustc\"]')",
        ])
        #expect(chart == nil, "\(chart ?? "")")
        let docs = BuiltProducts.repositoryRoot.appendingPathComponent("docs")
        #expect(page.screenshot(to: docs.appendingPathComponent("status-page-console.png").path) == nil)

        // A phone in dark mode: nothing wider than the screen, the chart redrawn at its width.
        #expect(page.viewport(width: 390, height: 844) == nil)
        #expect(page.colorScheme("dark") == nil)
        let phone = page.expectTrue([
            "document.documentElement.scrollWidth <= 390",
            "Number(document.querySelector('#patch-chart').getAttribute('width')) <= 390",
            "matchMedia('(prefers-color-scheme: dark)').matches",
        ])
        #expect(phone == nil, "\(phone ?? "")")
        #expect(page.screenshot(to: docs.appendingPathComponent("status-page-console-phone.png").path) == nil)
    }
}
