import Foundation

/// A program to run: what, with which arguments, where and under which environment.
public struct Command: Sendable, Equatable, Codable {
    /// A path, or a name looked up on the `PATH` of `environment` (or of this process).
    public var executable: String
    public var arguments: [String]
    /// The complete environment for the child; nil inherits this process's.
    public var environment: [String: String]?
    public var workingDirectory: URL?

    public init(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil, workingDirectory: URL? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    /// The command line, shell-quoted where needed, for logs and error messages.
    public var displayString: String {
        ([executable] + arguments).map(Self.shellQuote).joined(separator: " ")
    }

    static func shellQuote(_ word: String) -> String {
        let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
        if safe && !word.isEmpty { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// What a finished command did.
public struct CommandResult: Sendable {
    public var command: Command
    /// The exit status, or 128 + signal number when a signal ended it (as shells report it).
    public var exitStatus: Int32
    /// The signal that ended the process, if one did.
    public var terminatingSignal: Int32?
    public var stdout: Data
    public var stderr: Data
    public var duration: Duration

    public var succeeded: Bool { exitStatus == 0 && terminatingSignal == nil }
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs child processes: both output streams read concurrently (a full pipe can't stall the child),
/// optionally handed line by line to callbacks as they arrive, timed with the monotonic clock,
/// and stopped (SIGTERM) when a `Cancellation` fires.
public enum CommandRunner {
    /// Runs `command` to completion. A non-zero exit is not an error here (callers decide what it
    /// means); not being able to start, or being cancelled, is. `started`: called with the
    /// child's pid once it runs, before its output is read (``TestHooks`` pause there).
    public static func run(
        _ command: Command,
        cancellation: Cancellation? = nil,
        stdoutLine: (@Sendable (String) -> Void)? = nil,
        stderrLine: (@Sendable (String) -> Void)? = nil,
        started: ((Int32) -> Void)? = nil
    ) throws -> CommandResult {
        let searchPath = command.environment?["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
        guard let executable = which(command.executable, searchPath: searchPath) else {
            throw CommandError.notFound(name: command.executable, searchPath: searchPath ?? "")
        }
        if cancellation?.isCancelled == true { throw CommandError.cancelled(command: command.displayString) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = command.arguments
        if let environment = command.environment { process.environment = ChildProcessOwner.marking(environment) }
        if let directory = command.workingDirectory { process.currentDirectoryURL = directory }
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe

        let clock = ContinuousClock()
        let start = clock.now
        do {
            // Not a worker thread's blocked signals: see ChildSignals (jobserver, cancellation).
            try process.runUnblockingSignals()
        } catch {
            throw CommandError.launchFailed(path: executable, reason: (error as NSError).localizedDescription)
        }
        let pid = process.processIdentifier
        let exited = Locked(false)
        let token = cancellation?.addHandler { stop(pid, exited: exited) }
        defer { cancellation?.removeHandler(token) }
        started?(pid)

        let group = DispatchGroup()
        let stdoutBox = drain(stdoutPipe.fileHandleForReading, group: group, onLine: stdoutLine)
        let stderrBox = drain(stderrPipe.fileHandleForReading, group: group, onLine: stderrLine)
        group.wait()
        process.waitUntilExit()
        exited.withLock { $0 = true }
        let duration = clock.now - start

        if cancellation?.isCancelled == true { throw CommandError.cancelled(command: command.displayString) }
        let signalled = process.terminationReason == .uncaughtSignal
        let status = process.terminationStatus
        return CommandResult(
            command: command,
            exitStatus: signalled ? 128 + status : status,
            terminatingSignal: signalled ? status : nil,
            stdout: stdoutBox.withLock { $0 },
            stderr: stderrBox.withLock { $0 },
            duration: duration
        )
    }

    /// SIGTERM, then SIGKILL if the child is still there after a grace period. Signals go to the
    /// child's process group when it leads one (Foundation starts children in their own group on
    /// Linux), so cargo's rustc processes stop too. SIGKILL matters: a child inherits ignored
    /// signals, and some hosts (test runners, IDEs) ignore SIGTERM.
    private static func stop(_ pid: Int32, exited: Locked<Bool>) {
        let target = getpgid(pid) == pid ? -pid : pid
        kill(target, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) {
            if !exited.withLock({ $0 }) { kill(target, SIGKILL) }
        }
    }

    /// Reads `handle` to EOF on its own thread; lines go to `onLine` as they complete.
    private static func drain(_ handle: FileHandle, group: DispatchGroup, onLine: (@Sendable (String) -> Void)?) -> Locked<Data> {
        let collected = Locked(Data())
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            let fd = handle.fileDescriptor
            var pending = Data()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                let chunk = Data(buffer[0..<count])
                collected.withLock { $0.append(chunk) }
                guard let onLine else { continue }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    onLine(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            if let onLine, !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
            try? handle.close()
        }
        thread.start()
        return collected
    }

    /// The full path of `name`: itself when it contains a `/`, else the first executable match on `searchPath`.
    public static func which(_ name: String, searchPath: String?) -> String? {
        if name.contains("/") {
            return FileManager.default.isExecutableFile(atPath: name) ? name : nil
        }
        for directory in (searchPath ?? "").split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// A command could not be run to completion.
public enum CommandError: HotpatchError {
    case notFound(name: String, searchPath: String)
    case launchFailed(path: String, reason: String)
    case cancelled(command: String)

    public var code: String {
        switch self {
        case .notFound: "tool_not_found"
        case .launchFailed: "tool_launch_failed"
        case .cancelled: "cancelled"
        }
    }

    public var message: String {
        switch self {
        case let .notFound(name, _): "`\(name)` not found on PATH"
        case let .launchFailed(path, reason): "cannot start \(path): \(reason)"
        case let .cancelled(command): "cancelled: \(command)"
        }
    }

    public var hint: String? {
        switch self {
        case let .notFound(name, searchPath): "install \(name) or add its directory to PATH (searched: \(searchPath)); `whisker-dev doctor` checks the toolchain"
        case .launchFailed: "check that the file is an executable for this machine"
        case .cancelled: nil
        }
    }
}
