import ArgumentParser
import DevServer
import Foundation
import Hotpatch

/// `whisker-dev serve`: the dev server — builds, watches, patches and feeds devices over HTTP.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a cargo project: build it, watch its sources, and patch every connected app on save."
    )

    @OptionGroup var selection: ProjectOptions

    @OptionGroup var toolchain: ToolchainOptions

    @Option(help: "Address to listen on (loopback unless --lan).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free port and prints it.")
    var port: UInt16 = 9630

    @Flag(help: "Listen on every interface; every API request then needs the bearer token.")
    var lan = false

    @Option(help: "Bearer token for LAN mode (default: a random one, printed at start-up).")
    var token: String?

    @Flag(name: .customLong("no-watch"), help: "Do not watch the sources; patch only on POST /api/patches.")
    var noWatch = false

    @Option(name: .customLong("web-root"), help: "Directory of the status page (default: the checkout's web/).")
    var webRoot: String?

    @Flag(
        name: .customLong("entry-patching"),
        help: "Jump tables also overwrite the start of every changed old function with a jump to its new code (Linux/Android devices that may write their code pages).")
    var entryPatching = false

    @Flag(
        name: .customLong("allow-unpatchable"),
        help: "Patch edits the patchability checks refuse (a changed type layout, static type or manifest) instead of restarting the apps: the running code may misbehave.")
    var allowUnpatchable = false

    @Flag(
        name: .customLong("no-tui"),
        help: "Plain log lines even on a terminal: no status lines, no keys (r patch now, R hot restart, o open the page, l device logs, q quit).")
    var noTUI = false

    @OptionGroup var cache: CacheOptions

    func run() async throws {
        toolchain.apply()
        let options = ServeOptions(
            project: URL(fileURLWithPath: selection.project).standardizedFileURL, bin: selection.bin,
            package: selection.package, release: selection.release, target: toolchain.target,
            host: host ?? (lan ? "0.0.0.0" : "127.0.0.1"), port: port, lan: lan, token: token, watch: !noWatch,
            cacheDirectory: URL(fileURLWithPath: cache.resolvedDirectory), webRoot: webRoot, entryPatching: entryPatching,
            allowUnpatchable: allowUnpatchable, terminalUI: !noTUI)
        do {
            try await ServeRunner.run(options)
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }
}
