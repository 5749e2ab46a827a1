import ArgumentParser

/// `whisker-dev diff` (placeholder until its issue lands).
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("'diff' is not implemented yet")
    }
}
