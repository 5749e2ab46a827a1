import Foundation

/// Which server a child process works for, so that a server restarted after a crash can stop
/// what its killed predecessor left running.
///
/// A server killed with SIGKILL cannot stop its children: cargo, rustc and the linker run on as
/// orphans and keep writing into the project's cache — the build's target directory, the thin
/// build's incremental directories, a patch directory — while the new server starts jobs of its
/// own there. So the server marks every process it starts with `WHISKER_SERVE_OWNER=<project
/// cache root>|<pid>|<start time>` (``claim(root:)`` sets it in its own environment, which cargo
/// and the shims pass on; ``CommandRunner`` and the link also put it into the explicit
/// environments of the replays, which were captured under an earlier server), and the next server
/// on that project kills each process that carries a mark naming a server no longer running
/// (``stopOrphans(root:)``). Linux only (it reads `/proc`); elsewhere nothing is marked or stopped.
public enum ChildProcessOwner {
    /// The environment variable.
    public static let variable = "WHISKER_SERVE_OWNER"

    /// This process's mark, once ``claim(root:)`` ran (nil for the CLI and the shims).
    public static var current: String? {
        getenv(variable).map { String(cString: $0) }
    }

    /// Marks this process (and so every child it starts from now on) as the server of `root`.
    public static func claim(root: URL) {
        #if os(Linux)
        setenv(variable, mark(root: root.path, pid: getpid()), 1)
        #endif
    }

    /// `environment` with this process's mark, when it has one (a replay's captured environment
    /// carries the mark of the server that captured it, which may be long gone).
    static func marking(_ environment: [String: String]) -> [String: String] {
        guard let current else { return environment }
        var marked = environment
        marked[variable] = current
        return marked
    }

    /// Kills (SIGKILL, stopped ones too) every process marked for `root` by a server that is no
    /// longer running; returns their pids and command names. Processes of another user, which
    /// this one may not read, are left alone.
    @discardableResult
    public static func stopOrphans(root: URL) -> [(pid: Int32, name: String)] {
        #if os(Linux)
        let prefix = root.path + "|"
        var stopped: [(pid: Int32, name: String)] = []
        let me = getpid()
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != me,
                  let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ"),
                  let owner = value(of: variable, in: environ), owner.hasPrefix(prefix)
            else { continue }
            let parts = owner.dropFirst(prefix.count).split(separator: "|")
            guard parts.count == 2, let ownerPid = Int32(parts[0]) else { continue }
            // The owner still running (its pid with the same start time: this server's own
            // children too) keeps its children; a reused pid has another start time.
            if startTime(of: ownerPid) == String(parts[1]) { continue }
            let name = (try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            if kill(pid, SIGKILL) == 0 { stopped.append((pid, name)) }
        }
        return stopped
        #else
        return []
        #endif
    }

    private static func mark(root: String, pid: Int32) -> String {
        "\(root)|\(pid)|\(startTime(of: pid) ?? "0")"
    }

    /// Field 22 of `/proc/<pid>/stat`, the start time in clock ticks since boot: with the pid it
    /// names one process, whatever reuses the pid later.
    static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // After the command name (which may hold spaces) come fields 3, 4, …: 22 is the 20th.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }

    private static func value(of name: String, in environ: Data) -> String? {
        let key = Array((name + "=").utf8)
        for entry in environ.split(separator: 0, omittingEmptySubsequences: true) where entry.starts(with: key) {
            return String(decoding: entry.dropFirst(key.count), as: UTF8.self)
        }
        return nil
    }
}
