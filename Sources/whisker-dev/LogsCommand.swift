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

    @OptionGroup var server: ServerOptions

    func run() throws {
        let write: (String) -> Void = { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        let notice: (String) -> Void = { line in FileHandle.standardError.write(Data(("whisker-dev logs: " + line + "\n").utf8)) }
        try reportingErrors {
            let reader = DeviceLogReader(client: try server.client(), device: device)
            if follow {
                try reader.follow(write, notice: notice)
            } else {
                try reader.printKept(write, notice: notice)
            }
        }
    }
}
