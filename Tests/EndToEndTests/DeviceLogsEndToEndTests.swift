import Foundation
import Testing

/// Issue 15's device logs, live: the counter (edited to print a numbered, timestamped line to
/// stdout and one to stderr per tick) runs under `whisker-dev serve`; its lines come back from
/// `GET /api/devices/{id}/logs` and from `whisker-dev logs --follow`, each stream in order and
/// within 200 ms of being printed, while the app's own output still shows every one of them.
@Suite(.serialized) struct DeviceLogsEndToEndTests {
    /// The counter's tick also prints `out <n> at <epoch ms>` (stdout) and `err <n> at <epoch ms>`
    /// (stderr), the instant taken just before the write.
    static func addTimestampedLines(_ source: String) -> String {
        source.replacingOccurrences(
            of: "    say(&format!(\"tick {}: {}\", state.ticks, message()));\n",
            with: """
                say(&format!("tick {}: {}", state.ticks, message()));
                let at = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
                say(&format!("out {} at {}", state.ticks, at()));
                eprintln!("err {} at {}", state.ticks, at());

            """)
    }

    /// `(stream, n, printed at)` of an `[<device> ]<stream> out|err <n> at <ms>` line.
    static func parse(_ line: String) -> (stream: String, n: Int, printedAt: Date)? {
        let words = line.split(separator: " ")
        guard let at = words.lastIndex(of: "at"), at >= 2, at + 1 < words.count,
              let n = Int(words[at - 1]), let ms = Double(words[at + 1]), ["out", "err"].contains(words[at - 2])
        else { return nil }
        return (words[at - 2] == "out" ? "stdout" : "stderr", n, Date(timeIntervalSince1970: ms / 1000))
    }

    @Test func printedLinesReachTheAPIAndLogsFollowInOrderWithin200ms() throws {
        let workspace = try CounterWorkspace()
        try workspace.editMain(Self.addTimestampedLines)
        let server = try DevServerProcess(workspace: workspace)
        defer { _ = server.interrupt() }
        let build = try server.waitForBuild()

        let follower = try RunningProcess(executable: BuiltProducts.whiskerDev, arguments: ["logs", "--follow", "--server", server.url])
        defer { follower.terminate() }
        let (app, _) = try server.launchDevice(build: build)
        defer { app.terminate() }
        #expect(app.waitForLine { $0.contains("registered with") } != nil, "\(app.output.suffix(5))")
        let devices = try server.request("GET", "/api/devices").json?["devices"] as? [[String: Any]] ?? []
        let device = try #require(devices.first?["id"] as? String, "\(devices)")

        // Watch the follower's output for 3 s, noting when each line showed up (every 2 ms).
        var seenAt: [Int: Date] = [:]
        var followed: [(stream: String, n: Int, printedAt: Date, seenAt: Date)] = []
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            let output = follower.output
            let now = Date()
            for index in output.indices where seenAt[index] == nil {
                seenAt[index] = now
                guard output[index].hasPrefix("\(device) "), let line = Self.parse(output[index]) else { continue }
                #expect(output[index].hasPrefix("\(device) \(line.stream) "), "\(output[index])")
                followed.append((line.stream, line.n, line.printedAt, now))
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
        #expect(follower.isRunning, "--follow keeps following: \(follower.output.suffix(5))")

        for stream in ["stdout", "stderr"] {
            let lines = followed.filter { $0.stream == stream }
            #expect(lines.count >= 20, "\(stream): \(lines.count) lines in 3 s: \(follower.output.suffix(5))")
            let numbers = lines.map(\.n)
            #expect(numbers == Array((numbers.first ?? 1)..<((numbers.first ?? 1) + numbers.count)), "\(stream) in order, none missing: \(numbers)")
            // Lines printed after the follower caught up (the first ones may predate it).
            let live = lines.filter { $0.n >= (numbers.first ?? 0) + 5 }
            let latencies = live.map { $0.seenAt.timeIntervalSince($0.printedAt) * 1000 }
            let worst = latencies.max() ?? .infinity
            let median = latencies.sorted()[latencies.count / 2]
            print("whisker-dev logs --follow, \(stream): \(live.count) lines, median \(Int(median)) ms, worst \(Int(worst)) ms from print to screen")
            #expect(worst < 200, "\(stream): \(latencies.map { Int($0) })")
        }

        // The API has them too: numbered in order, each stream's lines in order, each received
        // within 200 ms of being printed.
        let page = try #require(try server.request("GET", "/api/devices/\(device)/logs").json)
        let kept = page["lines"] as? [[String: Any]] ?? []
        let seqs = kept.compactMap { $0["seq"] as? Int }
        #expect(seqs == Array(1...max(1, seqs.count)) && page["lastSeq"] as? Int == seqs.last, "\(seqs.prefix(10))…")
        #expect(page["dropped"] as? Int == 0 && page["missed"] as? Int == 0, "\(page["dropped"] ?? "") \(page["missed"] ?? "")")
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var apiLatencies: [Double] = []
        for stream in ["stdout", "stderr"] {
            let lines = kept.filter { $0["stream"] as? String == stream }.compactMap { entry -> (Int, Double)? in
                guard let text = entry["text"] as? String, let line = Self.parse("\(stream) \(text)"),
                      let received = (entry["receivedAt"] as? String).flatMap(format.date(from:))
                else { return nil }
                return (line.n, received.timeIntervalSince(line.printedAt) * 1000)
            }
            let numbers = lines.map(\.0)
            #expect(numbers.count >= 20 && numbers == Array(1...numbers.count), "\(stream): \(numbers)")
            // The first lines wait in the app's queue for the registration.
            apiLatencies += lines.filter { $0.0 >= 5 }.map(\.1)
        }
        #expect(kept.contains { ($0["text"] as? String)?.contains("registered with") == true && $0["stream"] as? String == "stderr" },
                "the runtime's own stderr line is forwarded too")
        // Received-at is the server's clock and printed-at the app's: the same machine's.
        print("GET /api/devices/{id}/logs: worst \(Int(apiLatencies.max() ?? 0)) ms from print to the server")
        #expect((apiLatencies.max() ?? .infinity) < 200, "\(apiLatencies.map { Int($0) })")
        let resumed = try server.request("GET", "/api/devices/\(device)/logs?since=\(seqs.count)").json
        let resumedSeqs = (resumed?["lines"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
        #expect(resumedSeqs.allSatisfy { $0 > seqs.count }, "since= resumes after the last line seen")

        // The app's own stdout and stderr still show everything.
        let own = app.output.compactMap(Self.parse)
        for stream in ["stdout", "stderr"] {
            let numbers = own.filter { $0.stream == stream }.map(\.n)
            #expect(numbers.count >= 20 && numbers == Array(1...numbers.count), "the app's own \(stream): \(numbers.prefix(10))…")
        }

        // Without --follow: the kept lines, then exit; unknown devices and bad bodies are errors.
        let once = try workspace.whiskerDev(["logs", "--server", server.url, "--device", device])
        #expect(once.succeeded, "\(once.stderrText)")
        #expect(once.stdoutText.contains("\(device) stdout out 1 at ") && once.stdoutText.contains("\(device) stderr err 1 at "))
        let unknown = try workspace.whiskerDev(["logs", "--server", server.url, "--device", "d-nope"])
        #expect(!unknown.succeeded && unknown.stderrText.contains("device_not_found"), "\(unknown.stderrText)")
        let missing = try server.request("GET", "/api/devices/d-nope/logs")
        #expect(missing.status == 404 && (missing.json?["error"] as? [String: Any])?["code"] as? String == "device_not_found")
        let bad = try server.request("POST", "/api/devices/\(device)/logs", body: #"{"lines":[{"stream":"stdout"}]}"#)
        #expect(bad.status == 400 && (bad.json?["error"] as? [String: Any])?["message"] != nil, "\(bad.text)")
    }
}
