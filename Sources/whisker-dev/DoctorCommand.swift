import ArgumentParser

/// `whisker-dev doctor` (placeholder until its issue lands).
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "doctor", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("'doctor' is not implemented yet")
    }
}
