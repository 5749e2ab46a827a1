import Foundation
import Testing

/// Issue 13's roll back against a live counter under `serve --entry-patching`: reverting patch 2
/// brings patch 1's text back, reverting to the fat build the original — and `heartbeat`, which
/// only entry patching reaches (main's loop calls it directly), returns to its old code with them.
/// Same pid throughout, the counter counting on; unknown ids are JSON 404s. And `whisker-dev
/// revert` / `restart` from the terminal.
@Suite(.serialized) struct RevertEndToEndTests {
    @Test func revertingGoesBackToTheEarlierPatchAndToTheFatBuildInTheSameProcess() throws {
        let workspace = try CounterWorkspace()
        let server = try DevServerProcess(workspace: workspace, extraArguments: ["--entry-patching"])
        defer { _ = server.interrupt() }
        let build = try server.waitForBuild()
        let (app, _) = try workspace.launch(
            binary: build.binary,
            environment: ["WHISKER_DEV_SERVER": server.url, "WHISKER_BUILD_ID": build.id, "COUNTER_HEARTBEAT_EVERY": "3"])
        defer { app.terminate() }
        let pid = app.pid
        #expect(app.waitForLine { $0.contains("registered with") } != nil, "\(app.output.suffix(5))")
        #expect(app.waitForLine { $0.hasPrefix("heartbeat ") && $0.hasSuffix(": steady") } != nil, "\(app.output.suffix(5))")

        // Patch 1 (text A, heartbeat "beat one"), patch 2 (text B, "beat two"), each by a save.
        try save(workspace, message: ("hello from counter", "text A"), heartbeat: ("steady", "beat one"))
        try expectRuns(app, text: "text A", heartbeat: "beat one", "patch 1")
        let first = try newestPatch(server)
        try save(workspace, message: ("text A", "text B"), heartbeat: ("beat one", "beat two"))
        try expectRuns(app, text: "text B", heartbeat: "beat two", "patch 2")
        let second = try newestPatch(server)
        #expect(second > first)

        // Revert patch 2: patch 1's table again, the entry of heartbeat jumping to patch 1's code.
        let mark = app.output.count
        let revert = try server.request("POST", "/api/patches/\(second)/revert?wait=true")
        #expect(revert.status == 200, "\(revert.text)")
        let reverted = try #require(revert.json, "\(revert.text)")
        let revertId = try #require(reverted["id"] as? Int)
        #expect(reverted["trigger"] as? String == "revert" && reverted["state"] as? String == "succeeded", "\(reverted)")
        #expect(reverted["revertOf"] as? Int == second && reverted["revertTo"] as? Int == first, "\(reverted)")
        #expect(revertId > second, "a new record; the reverted patch is kept")
        try expectRuns(app, text: "text A", heartbeat: "beat one", "after reverting patch \(second)", after: mark)
        let ticks = try #require(app.output.last { $0.hasSuffix(": text A") }.flatMap(tickNumber))
        #expect(try acked(server, revertId), "the device acks a revert like a patch")

        // Back to the fat build: an empty table; the runtime writes heartbeat's own bytes back.
        let fatMark = app.output.count
        let fat = try server.request("POST", "/api/builds/\(build.id)/revert?wait=true")
        #expect(fat.status == 200, "\(fat.text)")
        let fatRecord = try #require(fat.json, "\(fat.text)")
        let fatId = try #require(fatRecord["id"] as? Int)
        #expect(fatRecord["revertOf"] as? Int == first && fatRecord["revertTo"] is NSNull, "\(fatRecord)")
        let table = fatRecord["jumpTable"] as? [String: Any] ?? [:]
        #expect((table["map"] as? [Any])?.isEmpty == true && (table["entryPatches"] as? [Any] ?? []).isEmpty, "\(table)")
        try expectRuns(app, text: "hello from counter", heartbeat: "steady", "after reverting to the fat build", after: fatMark)
        let applied = app.output[fatMark...].first { $0.contains("whisker-hot: applied patch \(fatId) ") }
        // message() and heartbeat(): both changed, both entry-patched, both get their bytes back.
        #expect(applied?.contains("0 functions, 2 entries restored") == true, "\(applied ?? "no applied line")")
        let later = try #require(app.output.last { $0.hasSuffix(": hello from counter") }.flatMap(tickNumber))
        #expect(later > ticks, "the counter kept counting")
        #expect(app.isRunning && app.pid == pid, "same process")
        #expect(try acked(server, fatId))

        // Everything earlier is kept.
        let listed = try server.request("GET", "/api/patches").json?["patches"] as? [[String: Any]] ?? []
        #expect(Set(listed.compactMap { $0["id"] as? Int }).isSuperset(of: [first, second, revertId, fatId]), "\(listed)")

        // Bad input: JSON 404s, and the server keeps serving.
        let unknown = try server.request("POST", "/api/patches/9999/revert")
        #expect(unknown.status == 404, "\(unknown.text)")
        #expect((unknown.json?["error"] as? [String: Any])?["code"] as? String == "patch_not_found", "\(unknown.text)")
        let notANumber = try server.request("POST", "/api/patches/latest/revert")
        #expect(notANumber.status == 404, "\(notANumber.text)")
        let unknownBuild = try server.request("POST", "/api/builds/b-none/revert")
        #expect(unknownBuild.status == 404, "\(unknownBuild.text)")
        #expect((unknownBuild.json?["error"] as? [String: Any])?["code"] as? String == "build_not_found", "\(unknownBuild.text)")
        #expect(try server.request("GET", "/healthz").status == 200)

        // A device started now catches up through every record, reverts included, and ends on
        // the fat build's code.
        let (late, _) = try server.launchDevice(build: build)
        defer { late.terminate() }
        #expect(late.waitForLine(timeout: 60) { $0.contains("whisker-hot: applied patch \(fatId) ") } != nil, "\(late.output.suffix(8))")
        let lateMark = late.output.count
        #expect(late.waitForLine(after: lateMark) { $0.hasSuffix(": hello from counter") } != nil, "\(late.output.suffix(5))")
    }

    /// The same from the terminal: `whisker-dev revert` rolls the newest patch back (here to the
    /// fat build's code), `whisker-dev restart` restarts the app into a new build, and a bad id
    /// is the server's JSON error on stderr with exit status 1.
    @Test func theCLIRevertsTheNewestPatchAndRestartsTheApps() throws {
        try withServedCounter { workspace, server, build, app in
            let pid = app.pid
            try workspace.setMessage(from: "hello from counter", to: "text A")
            #expect(app.waitForLine(timeout: 120) { $0.hasSuffix(": text A") } != nil, "\(app.output.suffix(5))")
            let patch = try newestPatch(server)
            #expect(try acked(server, patch))

            var mark = app.output.count
            let reverted = try workspace.whiskerDev(["revert", "--server", server.url])
            #expect(reverted.succeeded, "\(reverted.stderrText)")
            #expect(reverted.stdoutText.contains("reverts patch \(patch) → the fat build's code: succeeded"), "\(reverted.stdoutText)")
            #expect(app.waitForLine(after: mark, timeout: 60) { $0.hasSuffix(": hello from counter") } != nil, "\(app.output.suffix(5))")

            let unknown = try workspace.whiskerDev(["revert", "9999", "--server", server.url])
            #expect(unknown.exitStatus == 1 && unknown.stderrText.contains("patch_not_found"), "\(unknown.stderrText)")

            mark = app.output.count
            let restarted = try workspace.whiskerDev(["restart", "--server", server.url])
            #expect(restarted.succeeded, "\(restarted.stderrText)")
            let newBuild = restarted.stdoutText.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            #expect(restarted.stdoutText.hasPrefix("build \(newBuild) succeeded") && newBuild != build.id, "\(restarted.stdoutText)")
            #expect(app.waitForLine(after: mark, timeout: 120) { $0.contains("whisker-hot: restarting into build \(newBuild) ") } != nil,
                    "\(app.output.suffix(5))")
            #expect(app.waitForLine(after: mark, timeout: 60) { $0.contains("registered with") } != nil)
            #expect(app.isRunning && app.pid == pid)
        }
    }

    // MARK: - Helpers

    /// One save that changes `message()`'s text and `heartbeat`'s.
    private func save(_ workspace: CounterWorkspace, message: (String, String), heartbeat: (String, String)) throws {
        try workspace.editMain {
            $0.replacingOccurrences(of: "\"\(message.0)\"", with: "\"\(message.1)\"")
                .replacingOccurrences(of: ": \(heartbeat.0)\"", with: ": \(heartbeat.1)\"")
        }
    }

    /// Waits (after output line `mark`) for a tick printing `text` and a heartbeat printing
    /// `heartbeat`; the heartbeat is reached only through its entry.
    private func expectRuns(_ app: RunningProcess, text: String, heartbeat: String, _ when: String, after mark: Int = 0) throws {
        let tick = app.waitForLine(after: mark, timeout: 90) { $0.hasPrefix("tick ") && $0.hasSuffix(": \(text)") }
        #expect(tick != nil, "\(when): no tick printed \(text): \(app.output.suffix(8))")
        let from = max(mark, app.output.count)
        let beat = app.waitForLine(after: from, timeout: 30) { $0.hasPrefix("heartbeat ") }
        #expect(beat?.hasSuffix(": \(heartbeat)") == true, "\(when): heartbeat \(beat ?? "none"), expected \(heartbeat)")
    }

    /// The id of the newest succeeded patch.
    private func newestPatch(_ server: DevServerProcess) throws -> Int {
        let patches = try server.request("GET", "/api/patches").json?["patches"] as? [[String: Any]] ?? []
        let ids = patches.filter { $0["state"] as? String == "succeeded" }.compactMap { $0["id"] as? Int }
        return try #require(ids.max(), "no succeeded patch: \(patches)")
    }

    /// Whether the one device has acked patch `id` applied (polled: the ack follows the output).
    private func acked(_ server: DevServerProcess, _ id: Int) throws -> Bool {
        let deadline = Date().addingTimeInterval(20)
        repeat {
            let record = try server.request("GET", "/api/patches/\(id)").json
            if (record?["appliedBy"] as? [String])?.isEmpty == false { return true }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < deadline
        return false
    }
}
