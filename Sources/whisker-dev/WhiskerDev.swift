import ArgumentParser
import DevServer
import Foundation
import Logging

/// `whisker-dev`: the command-line face of Whisker Hotpatch. Each subcommand lives in its own file
/// and only parses arguments before calling into `Hotpatch` or `DevServer`.
@main
struct WhiskerDev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whisker-dev",
        abstract: "Hot-patch running Rust programs: build, patch, serve.",
        subcommands: [
            SymbolsCommand.self,
            BuildCommand.self,
            PatchCommand.self,
            DiffCommand.self,
            DoctorCommand.self,
            ServeCommand.self,
            LogsCommand.self,
            RevertCommand.self,
            RestartCommand.self,
        ]
    )

    /// Logs go to stderr so stdout stays clean for `--json`. `serve` logs one line per event
    /// (info); the one-shot commands only warn. `WHISKER_LOG_LEVEL` overrides both.
    static func main() async {
        let isServe = CommandLine.arguments.dropFirst().first == "serve"
        let level = ProcessInfo.processInfo.environment["WHISKER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            ?? (isServe ? .info : .warning)
        LoggingSystem.bootstrap { label in
            // serve: millisecond timestamps, to read the log beside the patch latencies.
            if isServe {
                var handler = ServeLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        await main(nil)
    }
}
