import ArgumentParser
import DevServer
import Foundation

/// `whisker-dev revert`: roll the running apps back — to the code before a patch, or to the fat
/// build's — through a running `whisker-dev serve`.
struct RevertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revert",
        abstract: "Roll every app back to the code before a patch (or to the fat build's code).",
        discussion: """
            Every device of the build switches to the jump table of the patch before PATCH, as a new \
            patch record that devices ack like any other. Without PATCH, the newest succeeded patch is \
            reverted; --to-build goes back to the fat build's code.
            """)

    @Argument(help: "The patch to revert (an id from GET /api/patches); the newest succeeded one by default.")
    var patch: Int?

    @Flag(help: "Back to the fat build's code (of the current build, or of --build).")
    var toBuild = false

    @Option(help: "With --to-build: this build instead of the current one.")
    var build: String?

    @Flag(inversion: .prefixedNo, help: "Wait until the revert has finished (and fail unless it succeeded).")
    var wait = true

    @OptionGroup var server: ServerOptions

    func validate() throws {
        if toBuild && patch != nil { throw ValidationError("give a PATCH or --to-build, not both") }
        if build != nil && !toBuild { throw ValidationError("--build goes with --to-build") }
    }

    func run() throws {
        try reportingErrors {
            let actions = ServerActions(client: try server.client())
            let line = toBuild ? try actions.revertToFatBuild(build, wait: wait) : try actions.revert(patch: patch, wait: wait)
            print(line)
        }
    }
}
