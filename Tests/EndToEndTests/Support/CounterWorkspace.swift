import Foundation
import Hotpatch

/// A private copy of `examples/counter` and the `runtime/` crate it depends on (by the relative
/// path `../../runtime`), plus its own cache dir; removed when released.
final class CounterWorkspace: @unchecked Sendable {
    let root: URL
    var project: URL { root.appendingPathComponent("examples/counter") }
    var cache: URL { root.appendingPathComponent("cache") }
    var mainSource: URL { project.appendingPathComponent("src/main.rs") }

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("whisker-counter-\(UUID().uuidString.prefix(8))")
            .resolvingSymlinksInPath()
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("examples"), withIntermediateDirectories: true)
        for (source, destination) in [("runtime", "runtime"), ("examples/counter", "examples/counter")] {
            try Self.copyTree(
                from: BuiltProducts.repositoryRoot.appendingPathComponent(source),
                to: root.appendingPathComponent(destination))
        }
    }

    /// Copies a source tree, leaving out cargo's `target/` directories.
    private static func copyTree(from source: URL, to destination: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: destination, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: source.path) where name != "target" {
            let from = source.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            fm.fileExists(atPath: from.path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                try copyTree(from: from, to: destination.appendingPathComponent(name))
            } else {
                try fm.copyItem(at: from, to: destination.appendingPathComponent(name))
            }
        }
    }

    /// Rewrites the counter's source with `transform`, making sure the mtime moves forward as an
    /// editor's save would.
    func editMain(_ transform: (String) -> String) throws {
        let old = try String(contentsOf: mainSource, encoding: .utf8)
        let before = try FileManager.default.attributesOfItem(atPath: mainSource.path)[.modificationDate] as? Date
        try Data(transform(old).utf8).write(to: mainSource)
        if let before {
            let now = (try FileManager.default.attributesOfItem(atPath: mainSource.path)[.modificationDate] as? Date) ?? Date()
            if now <= before {
                try FileManager.default.setAttributes([.modificationDate: before.addingTimeInterval(0.01)], ofItemAtPath: mainSource.path)
            }
        }
    }

    /// Replaces the text `message()` returns.
    func setMessage(from old: String, to new: String) throws {
        try editMain { $0.replacingOccurrences(of: "\"\(old)\"", with: "\"\(new)\"") }
    }

    /// Runs `whisker-dev` with this workspace's cache.
    func whiskerDev(_ arguments: [String], environment extra: [String: String] = [:]) throws -> CommandResult {
        var environment = ProcessInfo.processInfo.environment
        environment["WHISKER_CACHE_DIR"] = cache.path
        environment["PATH"] = "\(NSHomeDirectory())/.cargo/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
        for (key, value) in extra { environment[key] = value }
        return try CommandRunner.run(Command(BuiltProducts.whiskerDev, arguments, environment: environment))
    }

    /// `whisker-dev patch` of the counter for the process whose `aslr_reference` is `reference`,
    /// writing its jump table to `table`; `extra` arguments (`--json`, `--force`) after.
    func patch(reference: String, table: String, _ extra: [String] = [], environment: [String: String] = [:]) throws -> CommandResult {
        try whiskerDev(["patch", "--project", project.path, "--aslr-reference", reference, "--jump-table-out", table] + extra, environment: environment)
    }

    /// `whisker-dev build --json` of the counter (`--release` when asked); returns the kept binary's path.
    func build(release: Bool = false) throws -> String {
        let result = try whiskerDev(["build", "--project", project.path, "--json"] + (release ? ["--release"] : []))
        guard result.succeeded else {
            throw CounterWorkspaceError("build failed (\(result.exitStatus)): \(result.stderrText)")
        }
        let object = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        guard let binary = object?["binary"] as? String else {
            throw CounterWorkspaceError("build --json printed no binary: \(result.stdoutText)")
        }
        return binary
    }

    /// Starts the kept binary, ticking fast, and returns it with its aslr reference.
    func launch(binary: String, environment extra: [String: String] = [:]) throws -> (RunningProcess, String) {
        var environment = ProcessInfo.processInfo.environment
        environment["COUNTER_INTERVAL_MS"] = "40"
        for (key, value) in extra { environment[key] = value }
        let app = try RunningProcess(executable: binary, environment: environment)
        guard let line = app.waitForLine(timeout: 20, { $0.hasPrefix("whisker: aslr_reference=") }) else {
            app.terminate()
            throw CounterWorkspaceError("the app printed no aslr reference: \(app.output)")
        }
        return (app, String(line.dropFirst("whisker: aslr_reference=".count)))
    }

    deinit { try? FileManager.default.removeItem(at: root) }
}

struct CounterWorkspaceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The number in a `tick <n>: <text>` line.
func tickNumber(_ line: String) -> Int? {
    guard line.hasPrefix("tick "), let colon = line.firstIndex(of: ":") else { return nil }
    return Int(line[line.index(line.startIndex, offsetBy: 5)..<colon])
}
