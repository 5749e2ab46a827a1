import ArgumentParser
import DevServer
import Foundation

/// `whisker-dev restart`: a hot restart through a running `whisker-dev serve` — a fat build, then
/// every app replaces its process with the new binary (the state it saves comes along).
struct RestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Build again, then restart every running app into the new build.",
        discussion: """
            The same as POST /api/restart and the status page's Hot restart button. Each app's runtime \
            replaces its process with the new binary (same pid, argv and working directory); what it \
            saves with whisker_hot::on_save_state, the new process reads with restored_state.
            """)

    @Flag(inversion: .prefixedNo, help: "Wait until the build has finished (and fail unless it succeeded).")
    var wait = true

    @OptionGroup var server: ServerOptions

    func run() throws {
        try reportingErrors {
            print(try ServerActions(client: try server.client()).restart(wait: wait))
        }
    }
}
