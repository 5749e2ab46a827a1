import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process the link tests talk to line by line (stdin/stdout), with a deadline on every
/// read so a crashed or stuck child fails the test instead of hanging it.
final class StubObjectHostProcess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffered: [UInt8] = []
    private(set) var transcript = ""

    init(_ executable: String, arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func send(_ line: String) throws {
        try input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// The next line, or a failure after `timeout` seconds or at end of output.
    func readLine(timeout: Double = 20) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        let fd = output.fileHandleForReading.fileDescriptor
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                transcript += line + "\n"
                return line
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw Failure(description: "no line within \(timeout) s; output so far:\n\(transcript)") }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(remaining * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else {
                throw Failure(description: "the process ended; output:\n\(transcript)\(String(decoding: buffered, as: UTF8.self))")
            }
            buffered += chunk[..<count]
        }
    }

    /// Reads lines until one starts with `prefix`; returns the rest of that line.
    func value(after prefix: String) throws -> String {
        while true {
            let line = try readLine()
            if line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
        }
    }

    func waitForExit() -> Int32 {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
