import ArgumentParser
import DevServer
import Foundation

/// `whisker-dev logs`: the output the connected apps forwarded (their stdout and stderr), from a
/// running `whisker-dev serve`, one `<device> <stream> <text>` line each.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print the stdout and stderr lines running apps forwarded to a `whisker-dev serve`.",
        discussion: "Each line is printed as `<device> <stream> <text>`, every device's lines in order.")

    @Option(help: "Only this device's lines (an id from GET /api/devices); all devices' by default.")
    var device: String?

    @Flag(help: "Keep printing lines as they arrive (reconnects when the server restarts).")
    var follow = false

    @Option(help: "URL of the server (default: $WHISKER_DEV_SERVER, else http://127.0.0.1:9630).")
    var server: String?

    @Option(help: "Bearer token of a server in LAN mode (default: $WHISKER_DEV_TOKEN).")
    var token: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let url = server ?? environment["WHISKER_DEV_SERVER"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:9630"
        let write: (String) -> Void = { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        let notice: (String) -> Void = { line in FileHandle.standardError.write(Data(("whisker-dev logs: " + line + "\n").utf8)) }
        do {
            let reader = try DeviceLogReader(serverURL: url, token: token ?? environment["WHISKER_DEV_TOKEN"], device: device)
            if follow {
                try reader.follow(write, notice: notice)
            } else {
                try reader.printKept(write, notice: notice)
            }
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }
}
