import Foundation
import Testing
import Hotpatch

/// `whisker-dev serve` on a free port over a `CounterWorkspace`, plus a small HTTP client for it.
final class DevServerProcess: @unchecked Sendable {
    let workspace: CounterWorkspace
    let process: RunningProcess
    let url: String

    /// `environment`: more variables for the server (`WHISKER_TEST_HOOKS`, another
    /// `WHISKER_CACHE_DIR`).
    init(workspace: CounterWorkspace, extraArguments: [String] = [], environment extra: [String: String] = [:]) throws {
        self.workspace = workspace
        var environment = ProcessInfo.processInfo.environment
        environment["WHISKER_CACHE_DIR"] = workspace.cache.path
        environment["PATH"] = "\(NSHomeDirectory())/.cargo/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
        for (key, value) in extra { environment[key] = value }
        process = try RunningProcess(
            executable: BuiltProducts.whiskerDev,
            arguments: ["serve", "--project", workspace.project.path]
                + (extraArguments.contains("--port") ? [] : ["--port", "0"]) + extraArguments,
            environment: environment)
        guard let line = process.waitForLine(timeout: 60, { $0.contains("status page") }),
              let range = line.range(of: "http://")
        else {
            process.terminate()
            throw CounterWorkspaceError("serve printed no URL: \(process.output)")
        }
        url = String(line[range.lowerBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "/ "))
    }

    /// Sends SIGINT and waits; returns the exit status.
    func interrupt() -> Int32 {
        kill(process.pid, SIGINT)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.process.waitUntilExit()
        return process.process.terminationStatus
    }

    /// `kill -9`: the server gets no chance to stop its jobs or write its journal.
    func killHard() {
        process.terminate()
    }

    struct HTTPResult {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// One request through curl (present on every machine the setup script prepares).
    func request(_ method: String, _ path: String, body: String? = nil, headers: [String] = []) throws -> HTTPResult {
        var arguments = ["-sS", "-X", method, "-D", "-", "--max-time", "120"]
        for header in headers { arguments += ["-H", header] }
        if let body { arguments += ["--data-binary", body, "-H", "Content-Type: application/json"] }
        arguments.append(url + path)
        let result = try CommandRunner.run(Command("/usr/bin/curl", arguments))
        let raw = result.stdout
        guard let separator = raw.range(of: Data("\r\n\r\n".utf8)) else {
            throw CounterWorkspaceError("no HTTP answer for \(method) \(path): \(result.stderrText)")
        }
        let head = String(decoding: raw[..<separator.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        // curl prints interim 100-continue heads first; the last head is the answer.
        while let index = lines.lastIndex(where: { $0.hasPrefix("HTTP/") }), index > 0 { lines.removeFirst(index) }
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPResult(status: status, headers: headers, body: Data(raw[separator.upperBound...]))
    }

    /// Polls until `GET /api/builds` has a succeeded build; returns its id and kept binary.
    static func warmUpFinished(_ build: [String: Any]) -> Bool {
        guard let warmUp = build["warmUp"] as? [String: Any] else { return true }
        return ["succeeded", "failed", "cancelled"].contains(warmUp["state"] as? String ?? "")
    }

    func waitForBuild(timeout: TimeInterval = 300) throws -> (id: String, binary: String) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let builds = try request("GET", "/api/builds").json?["builds"] as? [[String: Any]] ?? []
            // The binary is ready at `succeeded`; the warm-up after it is what the first patch's
            // baseline comes from, and an edit made while it runs would cost the patch that baseline.
            if let build = builds.first(where: { $0["state"] as? String == "succeeded" }),
               let id = build["id"] as? String, let binary = build["binaryPath"] as? String,
               Self.warmUpFinished(build)
            {
                return (id, binary)
            }
            if builds.contains(where: { $0["state"] as? String == "failed" }) {
                throw CounterWorkspaceError("the server's build failed: \(process.output.suffix(20))")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw CounterWorkspaceError("no build within \(timeout) s")
    }

    /// Starts the kept binary connected to this server.
    func launchDevice(build: (id: String, binary: String)) throws -> (RunningProcess, String) {
        try workspace.launch(binary: build.binary, environment: ["WHISKER_DEV_SERVER": url, "WHISKER_BUILD_ID": build.id])
    }

    deinit { if process.isRunning { process.terminate() } }
}

/// A `serve` of a fresh counter workspace and the app started from its first build, registered
/// with it; both stopped when `body` returns.
func withServedCounter(
    _ body: (CounterWorkspace, DevServerProcess, (id: String, binary: String), RunningProcess) throws -> Void
) throws {
    let workspace = try CounterWorkspace()
    let server = try DevServerProcess(workspace: workspace)
    defer { _ = server.interrupt() }
    let build = try server.waitForBuild()
    let (app, _) = try server.launchDevice(build: build)
    defer { app.terminate() }
    let registered = app.waitForLine { $0.contains("registered with") }
    #expect(registered != nil, "\(app.output.suffix(5))")
    try body(workspace, server, build, app)
}

/// Reads a server-sent-event stream with curl into a list of (id, event, data) as they arrive.
final class EventStreamReader: @unchecked Sendable {
    struct Event: Equatable {
        var id: Int?
        var name: String
        var data: String
    }

    private let process: RunningProcess

    init(url: String, lastEventID: Int? = nil) throws {
        var arguments = ["-sS", "-N", "--max-time", "300"]
        if let lastEventID { arguments += ["-H", "Last-Event-ID: \(lastEventID)"] }
        process = try RunningProcess(executable: "/usr/bin/curl", arguments: arguments + [url + "/api/events"])
    }

    /// The complete events received so far.
    var events: [Event] {
        var result: [Event] = []
        var current = Event(id: nil, name: "message", data: "")
        var hasField = false
        for line in process.output {
            if line.isEmpty {
                if hasField { result.append(current) }
                current = Event(id: nil, name: "message", data: "")
                hasField = false
            } else if line.hasPrefix("id: ") {
                current.id = Int(line.dropFirst(4))
                hasField = true
            } else if line.hasPrefix("event: ") {
                current.name = String(line.dropFirst(7))
                hasField = true
            } else if line.hasPrefix("data: ") {
                current.data = String(line.dropFirst(6))
                hasField = true
            }
        }
        return result
    }

    func waitFor(timeout: TimeInterval = 60, _ predicate: ([Event]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(events) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return predicate(events)
    }

    func stop() { process.terminate() }
}
