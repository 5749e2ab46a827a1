import ArgumentParser

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
        ]
    )
}
