import Foundation

/// One `cargo build` (or `cargo clean -p`) of a fat build: the command line and environment, and
/// running it with its JSON messages turned into `BuiltCrate`s and progress events.
struct CargoBuild {
    var cargo: String
    var layout: ProjectLayout
    var bin: String?
    var package: String?
    var release: Bool
    var target: String?
    /// The environment cargo runs with (the caller's plus the capture settings).
    var environment: [String: String]

    /// Flags that select the same profile, target and output directory for `build` and `clean`.
    private var selection: [String] {
        var arguments = ["--manifest-path", layout.projectDirectory.appendingPathComponent("Cargo.toml").path,
                         "--target-dir", layout.targetDirectory.path]
        if release { arguments.append("--release") }
        if let target { arguments += ["--target", target] }
        return arguments
    }

    var buildCommand: Command {
        var arguments = ["build", "--message-format=json-render-diagnostics"] + selection
        if let package { arguments += ["--package", package] }
        if let bin { arguments += ["--bin", bin] }
        return Command(cargo, arguments, environment: environment, workingDirectory: layout.projectDirectory)
    }

    func cleanCommand(packages: [String]) -> Command {
        Command(cargo, ["clean"] + packages.flatMap { ["--package", $0] } + selection, environment: environment, workingDirectory: layout.projectDirectory)
    }

    struct Outcome {
        var crates: [BuiltCrate]
        var result: CommandResult
    }

    /// Runs `command`, logging everything and reporting each finished unit.
    static func run(_ command: Command, log: LogFile, cancellation: Cancellation?, progress: @escaping @Sendable (BuildProgress) -> Void) throws -> Outcome {
        log.write("$ \(command.displayString)")
        let crates = Locked<[BuiltCrate]>([])
        let result = try CommandRunner.run(
            command,
            cancellation: cancellation,
            stdoutLine: { line in
                guard let message = CargoMessage.decode(line), let crate = message.builtCrate else { return }
                let counts: (Int, Int) = crates.withLock { list in
                    list.append(crate)
                    let fresh = list.filter(\.fresh).count
                    return (list.count - fresh, fresh)
                }
                log.write("[artifact] \(crate.name) (\(crate.kind.joined(separator: ","))) \(crate.fresh ? "fresh" : "compiled")")
                progress(.crateFinished(name: crate.name, fresh: crate.fresh, compiled: counts.0, freshCount: counts.1))
            },
            stderrLine: { line in
                log.write(line)
                progress(.output(line))
            },
            started: { TestHooks.pause(at: .cargo, child: $0) }
        )
        log.write("[exit] \(result.exitStatus) after \(result.duration.milliseconds) ms")
        return Outcome(crates: crates.withLock { $0 }, result: result)
    }

    /// cargo's stderr without its progress chatter: what a person needs to see to fix a failure.
    static func diagnostics(_ stderr: String) -> String {
        let noise = ["Compiling ", "Blocking ", "Fresh ", "Finished ", "Downloaded ", "Downloading ", "Locking ", "Updating "]
        return stderr.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in
                let trimmed = line.drop(while: { $0 == " " })
                return !noise.contains { trimmed.hasPrefix($0) }
            }
            .joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
