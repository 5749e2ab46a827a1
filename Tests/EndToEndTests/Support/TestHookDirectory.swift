import Foundation

/// The test side of the server's test-only pauses (`WHISKER_TEST_HOOKS`, see `TestHooks` in
/// Sources/Hotpatch/Support): arm a point, wait until the server is paused there, resume it.
struct TestHookDirectory {
    let path: String

    init(in root: URL) throws {
        path = root.appendingPathComponent("test-hooks").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// The server variables that turn the hooks on.
    var environment: [String: String] { ["WHISKER_TEST_HOOKS": path] }

    /// The next time the server reaches `point` it pauses there.
    func arm(_ point: String) {
        _ = FileManager.default.createFile(atPath: "\(path)/\(point)", contents: Data())
    }

    /// Waits until the server paused at `point`; the pid of the child it stopped there (nil when
    /// the point has none). Throws after `timeout` seconds.
    func waitUntilPaused(_ point: String, timeout: TimeInterval = 300) throws -> Int32? {
        let marker = "\(path)/\(point).paused"
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: marker) {
                return Int32(String(decoding: data, as: UTF8.self))
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw CounterWorkspaceError("the server never paused at \(point)")
    }

    /// Lets the paused server go on.
    func resume(_ point: String) {
        try? FileManager.default.removeItem(atPath: "\(path)/\(point).paused")
        _ = FileManager.default.createFile(atPath: "\(path)/\(point).resume", contents: Data())
    }
}

/// Whether `pid` is gone (or a zombie nobody reaped yet: it runs no more either).
func processEnded(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")")
    else { return kill(pid, 0) != 0 }
    let state = stat[stat.index(after: close)...].split(separator: " ").first
    return state == "Z" || state == "X"
}

/// Processes marked as children of the server with pid `server` (`WHISKER_SERVE_OWNER`, see
/// `ChildProcessOwner`), still running: `<pid> <command>` each.
func processesMarked(by server: Int32) -> [String] {
    var found: [String] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(entry), !processEnded(pid),
              let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ")
        else { continue }
        let marked = environ.split(separator: 0).contains { variable in
            let text = String(decoding: variable, as: UTF8.self)
            guard text.hasPrefix("WHISKER_SERVE_OWNER=") else { return false }
            let parts = text.split(separator: "|")
            return parts.count == 3 && parts[1] == "\(server)"
        }
        if marked {
            let name = (try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            found.append("\(pid) \(name)")
        }
    }
    return found
}
