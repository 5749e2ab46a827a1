import Crypto
import Foundation
import Hotpatch
import Testing

/// Issue 4's promise against the real `whisker-dev serve` on a free port: apps connected with
/// `whisker_hot::connect()` are patched by a save alone; a late app catches up; SSE shows the
/// patch; bad requests get JSON errors; a restart keeps everything.
@Suite(.serialized) struct ServeEndToEndTests {
    @Test func savesPatchEveryConnectedAppAndALateAppCatchesUp() throws {
        let workspace = try CounterWorkspace()
        let server = try DevServerProcess(workspace: workspace)
        defer { _ = server.interrupt() }
        let build = try server.waitForBuild()

        // The binary is announced ready before the warm-up, which then runs and finishes on its
        // own (the build's record says how it went).
        let history = try EventStreamReader(url: server.url, lastEventID: 0)
        defer { history.stop() }
        #expect(history.waitFor(timeout: 20) { $0.filter { $0.name == "build.warmUp" }.count >= 2 })
        let buildEvents = history.events.filter { $0.name.hasPrefix("build.") }
        let succeededAt = buildEvents.firstIndex { $0.name == "build.succeeded" }
        let warmUps = buildEvents.indices.filter { buildEvents[$0].name == "build.warmUp" }
        #expect(succeededAt != nil && warmUps.allSatisfy { $0 > succeededAt ?? .max }, "\(buildEvents.map(\.name))")
        #expect(warmUps.first.map { buildEvents[$0].data.contains("\"running\"") } == true)
        #expect(warmUps.last.map { buildEvents[$0].data.contains("\"succeeded\"") } == true, "\(buildEvents.last?.data ?? "")")
        let record = try server.request("GET", "/api/builds/\(build.id)").json
        let warmUp = record?["warmUp"] as? [String: Any]
        #expect(warmUp?["state"] as? String == "succeeded" && (warmUp?["durationMs"] as? Int ?? 0) > 0, "\(warmUp ?? [:])")

        let (first, firstReference) = try server.launchDevice(build: build)
        defer { first.terminate() }
        let (second, secondReference) = try server.launchDevice(build: build)
        defer { second.terminate() }
        #expect(firstReference != secondReference, "two processes, two ASLR slides")
        for app in [first, second] {
            #expect(app.waitForLine { $0.contains("registered with") } != nil, "\(app.output.suffix(5))")
        }
        let events = try EventStreamReader(url: server.url)
        defer { events.stop() }

        // A save, no command: both apps run the new code, same pids, counting on.
        try workspace.setMessage(from: "hello from counter", to: "saved once")
        for app in [first, second] {
            let line = app.waitForLine(timeout: 60) { $0.hasSuffix(": saved once") }
            #expect(line != nil, "no patch arrived after a save: \(app.output.suffix(6))")
            #expect(app.isRunning)
        }
        try workspace.setMessage(from: "saved once", to: "saved twice")
        for app in [first, second] {
            #expect(app.waitForLine(timeout: 60) { $0.hasSuffix(": saved twice") } != nil, "\(app.output.suffix(6))")
        }

        // The event stream told the story of each patch, in order.
        #expect(events.waitFor { events in events.filter { $0.name == "patch.succeeded" }.count >= 2 })
        let names = events.events.map(\.name)
        // The stream may join while the first patch runs: the story is read from the first
        // `patch.started` it saw.
        if let started = names.firstIndex(of: "patch.started") {
            let table = names[started...].firstIndex(of: "jump-table")
            let succeeded = table.flatMap { names[$0...].firstIndex(of: "patch.succeeded") }
            #expect(table != nil && succeeded != nil, "started < jump-table < succeeded: \(names)")
        } else {
            Issue.record("missing patch.started / jump-table / patch.succeeded in \(names)")
        }
        let ids = events.events.compactMap(\.id)
        #expect(ids == ids.sorted() && Set(ids).count == ids.count, "event ids increase")

        // Reconnecting with Last-Event-ID gets exactly what came after it.
        let cut = ids[ids.count / 2]
        let replay = try EventStreamReader(url: server.url, lastEventID: cut)
        defer { replay.stop() }
        let expected = events.events.filter { ($0.id ?? 0) > cut }
        #expect(replay.waitFor(timeout: 20) { $0.filter { $0.id != nil }.count >= expected.count })
        #expect(Array(replay.events.filter { $0.id != nil }.prefix(expected.count)) == expected)

        // A third app, started after both patches, receives both in order and ends on the newest code.
        let (late, _) = try server.launchDevice(build: build)
        defer { late.terminate() }
        #expect(late.waitForLine(timeout: 60) { $0.hasSuffix(": saved twice") } != nil, "\(late.output.suffix(8))")
        let applied = late.output.filter { $0.contains("whisker-hot: applied patch") }
        #expect(applied.count == 2 && applied[0].contains("patch 1") && applied[1].contains("patch 2"), "\(applied)")

        let devices = try server.request("GET", "/api/devices").json?["devices"] as? [[String: Any]] ?? []
        #expect(devices.count == 3)
        let deadline = Date().addingTimeInterval(20)
        var states: [String] = []
        repeat {
            let listed = try server.request("GET", "/api/devices").json?["devices"] as? [[String: Any]] ?? []
            states = listed.compactMap { $0["state"] as? String }
            if states.allSatisfy({ $0 == "up_to_date" }) { break }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < deadline
        #expect(states == ["up_to_date", "up_to_date", "up_to_date"])
        let patch2 = try server.request("GET", "/api/patches/2").json
        #expect((patch2?["appliedBy"] as? [String])?.count == 3)

        // Save → applied, time-stamped end to end: the server's instants in order from the save
        // the watcher saw, and each device's (from its ack) in order after them.
        let latency = try #require(patch2?["latency"] as? [String: Any], "\(patch2 ?? [:])")
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        func instant(_ object: [String: Any], _ key: String) -> Date? { (object[key] as? String).flatMap(format.date(from:)) }
        let serverTimes = try ["savedAt", "queuedAt", "startedAt", "linkedAt", "finishedAt"].map { key in
            try #require(instant(latency, key), "\(key) in \(latency)")
        }
        #expect(serverTimes == serverTimes.sorted(), "\(latency)")
        let perDevice = latency["devices"] as? [[String: Any]] ?? []
        #expect(Set(perDevice.compactMap { $0["device"] as? String }) == Set(devices.compactMap { $0["id"] as? String }), "\(perDevice)")
        for device in perDevice {
            let path = try ["sentAt", "receivedAt", "appliedAt", "ackedAt"].map { key in
                try #require(instant(device, key), "\(key) in \(device)")
            }
            #expect(path == path.sorted() && path[0] >= serverTimes[3], "\(device)")
            let timings = device["timings"] as? [String: Any] ?? [:]
            #expect(timings["fetch"] as? String == "local", "\(device)")
            #expect((timings["loadMs"] as? Double ?? -1) >= 0 && (timings["totalMs"] as? Double ?? 0) > 0, "\(device)")
            let total = try #require(device["saveToAppliedMs"] as? Double, "\(device)")
            #expect(total > 0 && abs(total - path[2].timeIntervalSince(serverTimes[0]) * 1000) < 2, "\(device)")
            let segments = device["segments"] as? [String: Any] ?? [:]
            #expect(Set(segments.keys).isSuperset(of: ["transitMs", "fetchMs", "loadMs", "applyMs", "ackMs"]), "\(segments)")
        }
        #expect(events.waitFor { $0.contains { $0.name == "patch.latency" } }, "a patch.latency event after the acks")

        // One link served all three processes (three slides): the same file for every device.
        let library = try #require(patch2?["library"] as? [String: Any])
        #expect(library["linkMode"] as? String == "shared", "\(library)")
        #expect(library["linkedFor"] as? Int == 1, "\(library)")
        let deviceIds = devices.compactMap { $0["id"] as? String }
        let etags = try Set(deviceIds.map { try server.request("GET", "/api/patches/2/library?device=\($0)").headers["etag"] ?? "" })
        #expect(etags == ["\"\(library["sha256"] as? String ?? "?")\""], "\(etags)")
        // On the server's machine every process maps the server's own file: no download, one file.
        let loaded = Set([first, second, late].compactMap { app in
            app.output.last { $0.contains("whisker-hot: applied patch 2 (") }?.split(separator: " ").last.map { String($0.dropLast()) }
        })
        #expect(loaded.count == 1 && loaded.first?.hasSuffix("/" + (library["name"] as? String ?? "?")) == true, "\(loaded)")
    }

    @Test func curlWaitReturnsThePlanErrorsAreJSONAndRestartKeepsEverything() throws {
        let workspace = try CounterWorkspace()
        var server = try DevServerProcess(workspace: workspace, extraArguments: ["--no-watch"])
        let build = try server.waitForBuild()

        // curl -fsS -X POST '…/api/patches?wait=true' returns the finished plan, no device needed.
        try workspace.setMessage(from: "hello from counter", to: "patched by curl")
        let curl = try server.request("POST", "/api/patches?wait=true")
        #expect(curl.status == 200, "\(curl.text)")
        let plan = try #require(curl.json)
        #expect(plan["state"] as? String == "succeeded")
        #expect((plan["phases"] as? [[String: Any]])?.contains { $0["name"] as? String == "rustc" } == true)
        let library = try #require(plan["library"] as? [String: Any])
        let sha = try #require(library["sha256"] as? String)
        let download = try server.request("GET", "/api/patches/1/library")
        #expect(download.status == 200)
        #expect(SHA256.hash(data: download.body).map { String(format: "%02x", $0) }.joined() == sha)
        #expect(download.headers["etag"] == "\"\(sha)\"")

        // Bad input: JSON errors with fitting statuses, and the server keeps going.
        func expectError(_ result: DevServerProcess.HTTPResult, _ status: Int, _ code: String? = nil) {
            #expect(result.status == status, "\(result.status) \(result.text)")
            let error = result.json?["error"] as? [String: Any]
            #expect(error?["message"] is String, "error body: \(result.text)")
            if let code { #expect(error?["code"] as? String == code, "\(result.text)") }
        }
        expectError(try server.request("POST", "/api/devices", body: "{\"name\": "), 400, "malformed_json")
        expectError(try server.request("GET", "/api/builds/b20990101-000000-abcdef"), 404)
        expectError(try server.request("GET", "/api/patches/999"), 404)
        expectError(try server.request("GET", "/api/devices/dnope/patches"), 404)
        let wrongMethod = try server.request("PUT", "/api/patches")
        expectError(wrongMethod, 405)
        #expect(wrongMethod.headers["allow"]?.contains("POST") == true)
        let big = "{\"name\":\"" + String(repeating: "x", count: 1_100_000) + "\"}"
        let bodyFile = workspace.root.appendingPathComponent("big.json")
        try Data(big.utf8).write(to: bodyFile)
        expectError(try server.request("POST", "/api/devices", body: "@" + bodyFile.path), 413)

        // A compile error: 422 with rustc's diagnostics; the next good edit patches.
        try workspace.editMain { $0.replacingOccurrences(of: "\"patched by curl\"", with: "\"oops\" +") }
        let broken = try server.request("POST", "/api/patches?wait=true")
        expectError(broken, 422)
        #expect(broken.text.contains("error"), "\(broken.text)")
        try workspace.editMain { $0.replacingOccurrences(of: "\"oops\" +", with: "\"fixed\"") }
        let fixed = try server.request("POST", "/api/patches?wait=true")
        #expect(fixed.status == 200, "\(fixed.text)")

        // A client that vanishes mid-download does not hurt the server.
        let partial = try CommandRunner.run(Command("/usr/bin/curl", ["-sS", "--max-filesize", "1000", "-o", "/dev/null", server.url + "/api/patches/1/library"]))
        _ = partial
        #expect(try server.request("GET", "/healthz").status == 200)

        // Restart: same builds and patches, libraries byte-identical, the kept build reused.
        let buildsBefore = try server.request("GET", "/api/builds").json?["builds"] as? [[String: Any]] ?? []
        #expect(server.interrupt() == 0, "SIGINT ends serve with exit 0")
        server = try DevServerProcess(workspace: workspace, extraArguments: ["--no-watch"])
        defer { _ = server.interrupt() }
        let again = try server.waitForBuild()
        #expect(again.id == build.id, "the kept build is reused")
        let buildsAfter = try server.request("GET", "/api/builds").json?["builds"] as? [[String: Any]] ?? []
        #expect(buildsAfter.count == buildsBefore.count)
        let patches = try server.request("GET", "/api/patches").json?["patches"] as? [[String: Any]] ?? []
        #expect(patches.map { $0["state"] as? String } == ["succeeded", "failed", "succeeded"])
        let redownload = try server.request("GET", "/api/patches/1/library")
        #expect(redownload.body == download.body)

        // A device of the existing build joins after the restart and gets the earlier patches.
        let (app, _) = try server.launchDevice(build: build)
        defer { app.terminate() }
        #expect(app.waitForLine(timeout: 60) { $0.hasSuffix(": fixed") } != nil, "\(app.output.suffix(8))")
    }

    @Test func lanModeNeedsTheToken() throws {
        let workspace = try CounterWorkspace()
        let server = try DevServerProcess(workspace: workspace, extraArguments: ["--no-watch", "--lan", "--host", "127.0.0.1", "--token", "s3cret"])
        defer { _ = server.interrupt() }
        let denied = try server.request("GET", "/api/status")
        #expect(denied.status == 401)
        #expect((denied.json?["error"] as? [String: Any])?["code"] as? String == "unauthorized")
        #expect(try server.request("GET", "/api/status", headers: ["Authorization: Bearer s3cret"]).status == 200)
        #expect(try server.request("GET", "/api/status?token=s3cret").status == 200)
        #expect(try server.request("GET", "/healthz").status == 200)
    }
}
