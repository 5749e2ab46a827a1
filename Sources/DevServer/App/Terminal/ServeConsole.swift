import Dispatch
import Foundation
import Hotpatch
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `serve`'s terminal UI, when both stdin and stdout are a terminal: the log scrolls above three
/// status lines (build, devices, the last patch and its phase timings; the keys), and single keys
/// act at once:
///
/// | key | action |
/// |---|---|
/// | `r` | patch now (what `POST /api/patches` does) |
/// | `R` | hot restart (`POST /api/restart`: a fat build, then every app restarts into it) |
/// | `o` | open the status page (`xdg-open`, else the URL is printed) |
/// | `l` | device logs on/off: the apps' forwarded stdout and stderr, on at start — as `flutter run`
///         shows its app's output, the serve terminal is where a developer looks for it |
/// | `q` | quit, exactly as Ctrl-C (SIGINT) does: clean shutdown, exit status 0 |
///
/// Without a terminal nothing of this runs and `serve` writes its plain log lines as before.
final class ServeConsole: Sendable {
    private let session: ProjectSession
    private let pageURL: String
    private let logger: Logger
    private let quit: TerminationTrigger
    private let mode: TerminalMode
    private let screen: StatusScreen
    private let keys: KeyReader
    /// Status redraws, one at a time and in order (a late snapshot must not overwrite a newer one).
    private let statusQueue = DispatchQueue(label: "whisker.serve-status")
    private let refreshScheduled = Atomic(false)
    private let deviceLogs = Atomic(true)
    private let stopped = Atomic(false)

    private init(
        session: ProjectSession, pageURL: String, logger: Logger, quit: TerminationTrigger, mode: TerminalMode, screen: StatusScreen
    ) {
        self.session = session
        self.pageURL = pageURL
        self.logger = logger
        self.quit = quit
        self.mode = mode
        self.screen = screen
        keys = KeyReader(fileDescriptor: mode.fileDescriptor)
    }

    /// Whether `serve` is attached to a terminal it can draw on and read keys from.
    static var isAvailable: Bool {
        TerminalMode.isInteractive(STDIN_FILENO) && isatty(STDOUT_FILENO) == 1
    }

    /// Starts the UI over stdin/stdout; nil (plain log lines) when they are not a terminal.
    /// `quit` is what the wait for SIGINT/SIGTERM also listens to. Call ``stop()`` on every way
    /// out: it puts the terminal back.
    static func start(
        session: ProjectSession, pageURL: String, logger: Logger, quit: TerminationTrigger
    ) -> ServeConsole? {
        guard isAvailable, let mode = TerminalMode.enable(STDIN_FILENO) else { return nil }
        let screen = StatusScreen(fileDescriptor: STDOUT_FILENO, columns: { terminalColumns(STDOUT_FILENO) })
        let console = ServeConsole(session: session, pageURL: pageURL, logger: logger, quit: quit, mode: mode, screen: screen)
        // The log goes above the status only when it shares the terminal; redirected (`2>file`),
        // it stays where the user sent it.
        if isatty(STDERR_FILENO) == 1 {
            ServeLogHandler.redirect.withLock { $0 = { level, line in screen.printLine(Self.colored(line, level)) } }
        }
        session.observe { [weak console] event in console?.observe(event) }
        console.keys.start { [weak console] key in console?.handle(key) }
        console.scheduleRefresh()
        console.tick()
        return console
    }

    /// Ends the UI: no more keys, the status lines erased, the log back on stderr, the terminal
    /// as it was. Idempotent.
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        keys.stop()
        ServeLogHandler.redirect.withLock { $0 = nil }
        statusQueue.sync {}
        screen.close()
        mode.restore()
    }

    // MARK: keys

    /// Acts on one key (on the key thread). Unknown keys do nothing.
    func handle(_ key: Character) {
        guard !stopped.load(ordering: .acquiring) else { return }
        switch key {
        case "r": patchNow()
        case "R": hotRestart()
        case "o": openPage()
        case "l":
            let on = !deviceLogs.load(ordering: .acquiring)
            deviceLogs.store(on, ordering: .releasing)
            logger.info("l: device logs \(on ? "on" : "off") (l toggles them)")
            scheduleRefresh()
        case "q":
            logger.info("q: shutting down")
            quit.fire(SIGINT)
        default: break
        }
    }

    private func patchNow() {
        do {
            let id = try session.enqueuePatch(trigger: .cli)
            logger.info("r: patch \(id) queued")
        } catch {
            logger.warning("r: no patch: \(error.message)\(error.hint.map { " (\($0))" } ?? "")")
        }
    }

    private func hotRestart() {
        do {
            let build = try session.requestRestart(trigger: .cli)
            logger.info("R: hot restart: build \(build.rawValue) queued; every app of an older build restarts into it once it succeeds")
        } catch {
            logger.warning("R: no restart: \(error.message)\(error.hint.map { " (\($0))" } ?? "")")
        }
    }

    private func openPage() {
        guard let opener = Self.executableOnPath("xdg-open") else {
            screen.printLine("o: status page \(pageURL)   (no xdg-open on PATH: open it in a browser)")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opener)
        process.arguments = [pageURL]
        // Not the terminal: a browser's chatter would scribble over the status lines, and the
        // keys are ours.
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            logger.info("o: opening \(pageURL)")
        } catch {
            screen.printLine("o: status page \(pageURL)   (xdg-open failed: \(error))")
        }
    }

    static func executableOnPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    // MARK: session events

    private func observe(_ event: SessionEvent) {
        guard !stopped.load(ordering: .acquiring) else { return }
        if case .deviceLog(let device, let lines) = event {
            // Like `whisker-dev logs`: `<device> <stream> <text>`.
            if deviceLogs.load(ordering: .acquiring), !lines.isEmpty {
                screen.printLine(lines.map { "\(device) \($0.stream.rawValue) \($0.text)" }.joined(separator: "\n"))
            }
            return
        }
        scheduleRefresh()
    }

    /// One redraw for a burst of events.
    private func scheduleRefresh() {
        guard !refreshScheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        statusQueue.async { [weak self] in
            self?.refreshScheduled.store(false, ordering: .releasing)
            self?.refreshNow()
        }
    }

    /// A redraw every second until ``stop()``: running jobs show their elapsed time, and nothing
    /// else changes between events.
    private func tick() {
        statusQueue.asyncAfter(deadline: .now() + 1) { [weak self] in
            guard let self, !stopped.load(ordering: .acquiring) else { return }
            refreshNow()
            tick()
        }
    }

    /// On the status queue.
    private func refreshNow() {
        guard !stopped.load(ordering: .acquiring) else { return }
        let lines = ServeStatusLines.make(
            status: session.status(), now: Date(), pageURL: pageURL, deviceLogs: deviceLogs.load(ordering: .acquiring))
        screen.setStatus(lines)
    }

    /// Warnings yellow, errors red: they are what a developer must not miss in a scrolling log.
    static func colored(_ line: String, _ level: Logger.Level) -> String {
        let text = line.hasSuffix("\n") ? String(line.dropLast()) : line
        switch level {
        case .warning: return "\u{1B}[33m" + text + "\u{1B}[0m"
        case .error, .critical: return "\u{1B}[31m" + text + "\u{1B}[0m"
        default: return text
        }
    }
}
