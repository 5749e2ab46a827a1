import ArgumentParser

/// `whisker-dev symbols` (placeholder until its issue lands).
struct SymbolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "symbols", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("'symbols' is not implemented yet")
    }
}
