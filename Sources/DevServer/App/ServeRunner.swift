import Foundation
import HTTP
import Hotpatch
import Logging

/// What `whisker-dev serve` was asked to do.
public struct ServeOptions: Sendable {
    public var project: URL
    public var bin: String?
    public var package: String?
    public var release: Bool
    /// Target triple of every build (cargo `--target`); nil: cargo's default (config, else the host).
    public var target: String?
    public var host: String
    public var port: UInt16
    public var lan: Bool
    public var token: String?
    public var watch: Bool
    public var cacheDirectory: URL
    public var webRoot: String?
    /// Jump tables carry `entryPatches` (`--entry-patching`).
    public var entryPatching: Bool
    /// Patch what the patchability checks refuse (`--allow-unpatchable`).
    public var allowUnpatchable: Bool
    /// The terminal UI (status lines and keys) when stdin and stdout are a terminal; false
    /// (`--no-tui`) keeps the plain log lines there too.
    public var terminalUI: Bool

    public init(
        project: URL, bin: String? = nil, package: String? = nil, release: Bool = false, target: String? = nil,
        host: String = "127.0.0.1",
        port: UInt16 = 9630, lan: Bool = false, token: String? = nil, watch: Bool = true, cacheDirectory: URL,
        webRoot: String? = nil, entryPatching: Bool = false, allowUnpatchable: Bool = false,
        terminalUI: Bool = true
    ) {
        self.project = project
        self.bin = bin
        self.package = package
        self.release = release
        self.target = target
        self.host = host
        self.port = port
        self.lan = lan
        self.token = token
        self.watch = watch
        self.cacheDirectory = cacheDirectory
        self.webRoot = webRoot
        self.entryPatching = entryPatching
        self.allowUnpatchable = allowUnpatchable
        self.terminalUI = terminalUI
    }
}

/// Why `serve` could not start.
public struct ServeError: HotpatchError {
    public var code: String
    public var message: String
    public var hint: String?
}

/// Runs the dev server until SIGINT/SIGTERM (or `q` in its terminal UI): validate, build unless a
/// kept build is current, serve, watch, then shut down cleanly.
public enum ServeRunner {
    public static func run(_ options: ServeOptions, logger: Logger = Logger(label: "whisker.serve")) async throws {
        let layout = ProjectLayout(project: options.project, cacheDirectory: options.cacheDirectory)
        // Before any job: what a killed server on this project left running (cargo, rustc, the
        // linker) would go on writing where the new jobs write. Then this server marks its own
        // children, through the environment they inherit.
        let orphans = ChildProcessOwner.stopOrphans(root: layout.root)
        if !orphans.isEmpty {
            logger.warning("stopped \(orphans.count) process(es) an earlier server of this project left running: \(orphans.map { "\($0.name) (\($0.pid))" }.joined(separator: ", "))")
        }
        ChildProcessOwner.claim(root: layout.root)
        let environment = ProcessInfo.processInfo.environment
        guard FileManager.default.fileExists(atPath: options.project.appendingPathComponent("Cargo.toml").path) else {
            throw ServeError(code: "no_cargo_toml", message: "\(options.project.path) has no Cargo.toml", hint: "pass the directory of a cargo project with --project")
        }
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(options.host)
        if !loopback && !options.lan {
            throw ServeError(code: "lan_flag_required", message: "listening on \(options.host) exposes the server beyond this machine",
                             hint: "add --lan (every request then needs the printed bearer token)")
        }
        let failed = EnvironmentCheck.run(environment: environment, projectDirectory: options.project).filter { $0.required && !$0.passed }
        if !failed.isEmpty {
            throw ServeError(code: "environment_invalid",
                             message: "missing tools: " + failed.map(\.name).joined(separator: ", "),
                             hint: "run `whisker-dev doctor` for the fixes")
        }

        let token: String? = options.lan ? (options.token ?? Self.randomToken()) : options.token
        let events = EventHub(firstEventID: Journal.lastEventID(in: layout) + 1)
        let session = try ProjectSession(
            configuration: SessionConfiguration(
                project: options.project, cacheDirectory: options.cacheDirectory, bin: options.bin,
                package: options.package, release: options.release, target: options.target,
                entryPatching: options.entryPatching, allowUnpatchable: options.allowUnpatchable,
                environment: environment),
            events: events, logger: logger)
        let routes = ProjectRoutes(session: session)
        let app = DevServerApp(
            configuration: DevServerConfiguration(
                host: options.host, port: options.port, lanToken: token, webRoot: options.webRoot ?? Self.locateWebRoot()),
            events: events,
            status: { routes.statusJSON() },
            routes: [routes],
            eventFilter: { try routes.eventFilter(for: $0) },
            logger: logger)
        try app.start()
        // Written unbuffered: scripts read the URL (and the port `--port 0` chose) from here.
        var banner = "whisker-dev serving \(options.project.path)\n"
        banner += "  status page  \(app.url)/\n"
        banner += "  API          \(app.url)/api/status\n"
        if let token { banner += "  token        \(token)   (Authorization: Bearer <token>, or ?token=)\n" }
        FileHandle.standardOutput.write(Data(banner.utf8))

        // From here on every way out (a throw included) must put the terminal back.
        let quit = TerminationTrigger()
        var pageURL = "\(app.url)/"
        if let token { pageURL += "?token=\(token)" }
        let console = options.terminalUI ? ServeConsole.start(session: session, pageURL: pageURL, logger: logger, quit: quit) : nil
        defer { console?.stop() }

        switch try session.startup() {
        case .keptBuild(let build):
            logger.info("using kept build \(build.rawValue): sources unchanged since it or its last patch")
        case .patch(let id, let build):
            logger.info("using kept build \(build.rawValue): sources changed since it or its last patch, patch \(id) queued")
        case .build:
            break
        }

        let watcher = options.watch ? SourceWatching.start(session: session, logger: logger) : nil
        let reaper = DispatchSource.makeTimerSource(queue: .global())
        reaper.schedule(deadline: .now() + 5, repeating: 5)
        reaper.setEventHandler { session.reapLostDevices() }
        reaper.resume()

        let signal = await app.waitForTerminationSignal(trigger: quit)
        console?.stop()
        logger.info("signal \(signal): shutting down")
        reaper.cancel()
        watcher?.stop()
        app.server.stopAccepting()
        session.shutdown(cancelRunning: true)
        app.shutdown(reason: "the server is shutting down (signal \(signal))")
        logger.info("stopped")
    }

    static func randomToken() -> String {
        (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined()
    }

    /// `web/` of the checkout the executable was built in (`.build/<config>/whisker-dev`), or of
    /// the working directory, or `WHISKER_WEB_ROOT`.
    static func locateWebRoot() -> String? {
        let fm = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["WHISKER_WEB_ROOT"] { return explicit }
        var candidates: [URL] = [URL(fileURLWithPath: fm.currentDirectoryPath)]
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<5 {
                candidates.append(directory)
                directory = directory.deletingLastPathComponent()
            }
        }
        for candidate in candidates {
            let web = candidate.appendingPathComponent("web")
            if fm.fileExists(atPath: web.appendingPathComponent("index.html").path) { return web.path }
        }
        return nil
    }
}
