import ArgumentParser

/// `whisker-dev patch` (placeholder until its issue lands).
struct PatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "patch", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("'patch' is not implemented yet")
    }
}
