import Foundation
import Hotpatch
import Testing

/// Issue 15's terminal UI, as a user at a terminal sees it: `whisker-dev serve` runs in a tmux
/// pane (160×40), the test reads the pane with `capture-pane` and types with `send-keys`. The status
/// lines appear; `r` after an edit patches (the API has the patch, trigger `cli`, and the pane says
/// so); `R` queues a build (hot restart); `o` hands the page's URL to xdg-open; `l` turns device
/// logs off; `q` shuts down cleanly with exit status 0 and the terminal back in canonical mode
/// with echo.
@Suite(.serialized) struct ServeTerminalEndToEndTests {
    @Test(.enabled(if: Tmux.path != nil, "tmux is not installed: scripts/setup.sh installs it (apt package tmux)"))
    func keysDriveTheServerUnderTmux() throws {
        let workspace = try CounterWorkspace()
        let pane = try TerminalSession(workspace: workspace)
        defer { pane.close() }

        let banner = try #require(pane.waitForScreen(timeout: 60) { $0.contains("status page") }, "\(pane.screen)")
        let url = try #require(Self.url(in: banner), "\(banner)")
        let legend = "r patch now · R hot restart · o open \(url)/ · l device logs: on · q quit"
        // The build and its warm-up (an edit made while it runs would cost the patch its baseline).
        let deadline = Date().addingTimeInterval(300)
        var buildsBefore: [[String: Any]] = []
        while Date() < deadline {
            buildsBefore = try Self.json(url, "/api/builds")["builds"] as? [[String: Any]] ?? []
            if buildsBefore.contains(where: { $0["state"] as? String == "succeeded" && DevServerProcess.warmUpFinished($0) }) { break }
            try #require(!buildsBefore.contains { $0["state"] as? String == "failed" }, "\(pane.screen)")
            Thread.sleep(forTimeInterval: 0.5)
        }
        let ready = pane.waitForScreen(timeout: 10) { screen in
            screen.contains(legend) && screen.contains("no patch yet") && !screen.contains("warming up")
                && screen.split(separator: "\n").contains { $0.hasPrefix(" whisker-dev  ·  build b") && $0.contains(" succeeded in ") }
        }
        try #require(ready != nil, "no status line with a finished build: \(pane.screen)")
        #expect((try Self.json(url, "/api/patches")["patches"] as? [Any])?.isEmpty == true, "no patch before r")

        // r: a patch of the edit (--no-watch: nothing but the key can start one).
        try workspace.setMessage(from: "hello from counter", to: "patched from the terminal")
        pane.send("r")
        let patched = pane.waitForScreen(timeout: 120) { $0.contains("r: patch 1 queued") && $0.contains("patch 1 succeeded in") }
        #expect(patched != nil, "\(pane.screen)")
        let patches = try Self.json(url, "/api/patches")["patches"] as? [[String: Any]] ?? []
        #expect(patches.count == 1, "\(patches)")
        let trigger = patches.first?["trigger"] as? String
        let state = patches.first?["state"] as? String
        #expect(trigger == "cli" && state == "succeeded", "\(patches)")
        // The status shows the patch's phase timings.
        #expect(pane.screen.contains("patch 1: ") && pane.screen.contains("rustc "), "\(pane.screen)")

        // r again with nothing changed: refused, and the pane says why.
        pane.send("r")
        // Bound to a `let` first: Swift 6.3.1 miscompiles a trailing closure inside #expect so that the
        // next waitForScreen reuses it (see RestartEndToEndTests).
        let refused = pane.waitForScreen(timeout: 20) { $0.contains("r: no patch: no source file changed") }
        #expect(refused != nil, "\(pane.screen)")

        // R: hot restart = a new fat build queued.
        pane.send("R")
        let restartQueued = pane.waitForScreen(timeout: 20) { $0.contains("R: hot restart: build b") }
        #expect(restartQueued != nil, "\(pane.screen)")
        let buildsAfter = try Self.json(url, "/api/builds")["builds"] as? [[String: Any]] ?? []
        let ids = buildsAfter.compactMap { $0["id"] as? String }
        #expect(ids.count == buildsBefore.count + 1, "\(ids)")
        let restartTrigger = buildsAfter.first?["trigger"] as? String  // newest first
        #expect(restartTrigger == "cli", "a key in the terminal is the CLI: \(ids)")

        // o: the page's URL goes to xdg-open (the pane's PATH has a fake one that notes it).
        pane.send("o")
        let openDeadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: pane.openedFile.path) && Date() < openDeadline { Thread.sleep(forTimeInterval: 0.1) }
        let opened = (try? String(contentsOf: pane.openedFile, encoding: .utf8)) ?? ""
        #expect(opened.trimmingCharacters(in: .whitespacesAndNewlines) == "\(url)/", "xdg-open got \(opened.debugDescription)")

        // l: device logs off, in the legend.
        pane.send("l")
        let logsOff = pane.waitForScreen(timeout: 20) { $0.contains("l device logs: off") }
        #expect(logsOff != nil, "\(pane.screen)")

        // q: exactly SIGINT's clean shutdown, exit status 0, terminal modes back.
        pane.send("q")
        let status = pane.waitForExitStatus(timeout: 60)
        #expect(status == "0", "exit status \(status ?? "none"): \(pane.screen)")
        let screen = pane.screen
        #expect(screen.contains("q: shutting down") && screen.contains("stopped"), "\(screen)")
        #expect(!screen.contains(legend.replacingOccurrences(of: ": on", with: ": off")), "the status lines are erased at exit: \(screen)")
        let modes = pane.terminalModesAfterExit
        #expect(modes.contains(" icanon") && modes.contains(" echo "), "stty -a after serve: \(modes)")
    }

    static func url(in screen: String) -> String? {
        guard let range = screen.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
        return String(screen[range])
    }

    static func json(_ url: String, _ path: String) throws -> [String: Any] {
        let result = try CommandRunner.run(Command("/usr/bin/curl", ["-sS", "--max-time", "30", url + path]))
        return (try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]) ?? [:]
    }
}

/// Where tmux is, if installed.
enum Tmux {
    static let path: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}

/// `whisker-dev serve --no-watch` on the workspace in a detached tmux session of its own tmux
/// server (`-L`: nothing of the user's tmux is touched), through a wrapper script that records
/// the exit status and `stty -a` once serve has exited, then keeps the pane open for reading.
final class TerminalSession: @unchecked Sendable {
    let socket = "whisker-tui-\(UUID().uuidString.prefix(8))"
    let root: URL
    var openedFile: URL { root.appendingPathComponent("opened") }
    var statusFile: URL { root.appendingPathComponent("exit-status") }
    var modesFile: URL { root.appendingPathComponent("stty-after") }

    init(workspace: CounterWorkspace) throws {
        root = workspace.root.appendingPathComponent("tui")
        let fm = FileManager.default
        let bin = root.appendingPathComponent("bin")
        try fm.createDirectory(at: bin, withIntermediateDirectories: true)
        let fakeOpener = bin.appendingPathComponent("xdg-open")
        try Data("#!/bin/sh\nprintf '%s\\n' \"$*\" > '\(openedFile.path).tmp' && mv '\(openedFile.path).tmp' '\(openedFile.path)'\n".utf8)
            .write(to: fakeOpener)
        let wrapper = root.appendingPathComponent("serve.sh")
        let path = "\(bin.path):\(NSHomeDirectory())/.cargo/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        try Data("""
            #!/bin/sh
            export WHISKER_CACHE_DIR='\(workspace.cache.path)'
            export PATH='\(path)'
            '\(BuiltProducts.whiskerDev)' serve --project '\(workspace.project.path)' --port 0 --no-watch
            status=$?
            stty -a > '\(modesFile.path)' 2>&1
            echo "$status" > '\(statusFile.path)'
            exec sleep 600

            """.utf8).write(to: wrapper)
        for file in [fakeOpener, wrapper] { try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path) }
        let status = try Self.spawnDetached(
            Tmux.path ?? "/usr/bin/tmux", ["-L", socket, "new-session", "-d", "-s", "serve", "-x", "160", "-y", "40", wrapper.path])
        guard status == 0 else { throw CounterWorkspaceError("tmux new-session failed: exit status \(status)") }
    }

    /// Runs `executable` to its exit, with /dev/null for stdin, stdout and stderr, an empty signal
    /// mask and default signal actions; returns its exit status (0 when someone else reaped it).
    ///
    /// Not through CommandRunner or Foundation's Process: the tmux server `new-session` starts
    /// inherits the command's stdout and stderr (a reader waiting for their end waits as long as the
    /// server lives) and the spawning thread's signal mask — the test runner's threads block
    /// nearly every signal, and a tmux server started with them blocked never ends (not on
    /// `kill-server`, not on SIGTERM).
    static func spawnDetached(_ executable: String, _ arguments: [String]) throws -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var files = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&files)
        defer { posix_spawn_file_actions_destroy(&files) }
        posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &files, &attributes, argv, environ)
        guard spawned == 0 else { throw CounterWorkspaceError("cannot start \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno == EINTR { continue }
            return 0  // ECHILD: reaped by someone else (Foundation reaps what it did not start, too)
        }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    @discardableResult
    private func tmux(_ arguments: [String]) throws -> CommandResult {
        try CommandRunner.run(Command(Tmux.path ?? "tmux", ["-L", socket] + arguments))
    }

    /// The pane's visible text, lines joined with newlines (trailing blank lines dropped).
    var screen: String {
        let text = (try? tmux(["capture-pane", "-p", "-t", "serve"]).stdoutText) ?? ""
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func waitForScreen(timeout: TimeInterval, _ predicate: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let text = screen
            if predicate(text) { return text }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < deadline
        return nil
    }

    /// Types `key` into the pane, literally.
    func send(_ key: String) {
        _ = try? tmux(["send-keys", "-t", "serve", "-l", key])
    }

    func waitForExitStatus(timeout: TimeInterval) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let status = try? String(contentsOf: statusFile, encoding: .utf8) {
                return status.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        return nil
    }

    var terminalModesAfterExit: String { (try? String(contentsOf: modesFile, encoding: .utf8)) ?? "" }

    /// Ends the tmux server (and serve with it, by SIGHUP, if a failed check left it running).
    func close() {
        _ = try? tmux(["kill-server"])
    }

    deinit { close() }
}
