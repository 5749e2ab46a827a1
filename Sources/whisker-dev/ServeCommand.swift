import ArgumentParser

/// `whisker-dev serve` (placeholder until its issue lands).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("'serve' is not implemented yet")
    }
}
