import Foundation
import Testing

/// Issue 13's hot restart, live: an edit the running build can't take (a new feature in
/// Cargo.toml, with a text change) is refused, the server fat-builds it on its own, and the app
/// replaces itself with the new binary — same pid, new build id, the new text — after which a
/// patchable edit patches the restarted process.
@Suite(.serialized) struct RestartEndToEndTests {
    @Test func anUnpatchableEditRestartsTheAppIntoANewBuildThatThenTakesPatches() throws {
        let workspace = try CounterWorkspace()
        let server = try DevServerProcess(workspace: workspace)
        defer { _ = server.interrupt() }
        let build = try server.waitForBuild()
        let (app, _) = try workspace.launch(
            binary: build.binary, environment: ["WHISKER_DEV_SERVER": server.url, "WHISKER_BUILD_ID": build.id])
        defer { app.terminate() }
        let pid = app.pid
        #expect(app.waitForLine { $0.contains("registered with") } != nil, "\(app.output.suffix(5))")

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
        #expect(first.flatMap(tickNumber) == 1, "a fresh process image (its ticks start over): \(first ?? "")")
        #expect(app.isRunning && app.pid == pid, "the same process, replaced in place")

        // The refused patch says why; the old device is `restarting`, the new one of the new build.
        let patches = try server.request("GET", "/api/patches").json?["patches"] as? [[String: Any]] ?? []
        #expect(patches.contains { $0["state"] as? String == "failed" && $0["patchable"] as? Bool == false }, "\(patches)")
        let devices = try server.request("GET", "/api/devices").json?["devices"] as? [[String: Any]] ?? []
        #expect(devices.contains { $0["state"] as? String == "restarting" && $0["buildId"] as? String == build.id }, "\(devices)")
        #expect(app.waitForLine(after: mark, timeout: 30) { $0.contains("registered with") } != nil, "the new process registers")
        let binary = try server.request("GET", "/api/builds/\(newBuild)/binary")
        #expect(binary.status == 200)

        // Patchable again, in the restarted process.
        let later = app.output.count
        try workspace.setMessage(from: "after restart", to: "patched after restart")
        #expect(app.waitForLine(after: later, timeout: 120) { $0.hasSuffix(": patched after restart") } != nil, "\(app.output.suffix(8))")
        #expect(app.isRunning && app.pid == pid)
    }
}
