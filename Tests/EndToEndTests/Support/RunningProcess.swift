import Foundation
import Synchronization

/// A child process the end-to-end tests talk to: its stdout is collected line by line on a
/// background reader so a test can wait for a line that matches, and its stdin stays open for
/// sending commands (the example app reads jump-table paths from it).
final class RunningProcess: @unchecked Sendable {
    let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let lines = Mutex<[String]>([])
    private let partial = Mutex<String>("")

    init(executable: String, arguments: [String] = [], environment: [String: String]? = nil, workingDirectory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stdoutPipe
        stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            let text = String(decoding: data, as: UTF8.self)
            let complete: [String] = self.partial.withLock { buffer in
                buffer += text
                var parts = buffer.components(separatedBy: "\n")
                buffer = parts.removeLast()
                return parts
            }
            if !complete.isEmpty { self.lines.withLock { $0.append(contentsOf: complete) } }
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var output: [String] { lines.withLock { $0 } }

    /// Sends one line to the child's stdin.
    func send(_ line: String) {
        stdinPipe.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Waits until a line after index `from` satisfies `predicate`; returns it, or nil on timeout.
    func waitForLine(after from: Int = 0, timeout: TimeInterval = 30, _ predicate: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let snapshot = output
            if snapshot.count > from, let hit = snapshot[from...].first(where: predicate) { return hit }
            if !process.isRunning { return nil }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return nil
    }

    /// Ends the child with SIGKILL: children of the test runner may inherit an ignored SIGTERM.
    func terminate() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        stdoutPipe.fileHandleForReading.readabilityHandler = nil
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
