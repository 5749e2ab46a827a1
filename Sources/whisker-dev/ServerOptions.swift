import ArgumentParser
import DevServer
import Foundation
import HTTP

/// How a command reaches a running `whisker-dev serve`: `--server` and `--token`, defaulting to
/// the variables the apps use.
struct ServerOptions: ParsableArguments {
    @Option(help: "URL of the server (default: $WHISKER_DEV_SERVER, else http://127.0.0.1:9630).")
    var server: String?

    @Option(help: "Bearer token of a server in LAN mode (default: $WHISKER_DEV_TOKEN).")
    var token: String?

    var url: String {
        server ?? ProcessInfo.processInfo.environment["WHISKER_DEV_SERVER"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:9630"
    }

    var bearerToken: String? {
        token ?? ProcessInfo.processInfo.environment["WHISKER_DEV_TOKEN"]
    }

    func client() throws -> HTTPClient {
        try HTTPClient(baseURL: url, token: bearerToken)
    }
}

/// Runs `body`, printing its error like every command does and exiting 1 on one.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch {
        printError(error)
        throw ExitCode.failure
    }
}
