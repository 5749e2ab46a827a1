import ArgumentParser
import Foundation
import Hotpatch

/// `whisker-dev doctor`: checks the toolchain the pipeline needs and says how to fix what's missing.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check cargo, rustc, the C linker and lld (and a target, if given)."
    )

    @Option(help: "Directory of a cargo project, so its rust-toolchain and .cargo/config.toml apply.")
    var project: String?

    /// `--target`: also check that target (supported, its std installed, its linker; the NDK for Android).
    @OptionGroup var toolchain: ToolchainOptions

    @Flag(help: "Print the checks as JSON.")
    var json = false

    func run() async throws {
        toolchain.apply()
        let checks = EnvironmentCheck.run(projectDirectory: project.map { URL(fileURLWithPath: $0) }, target: toolchain.target)
            + [Self.serverBuildCheck]
        if json {
            FileHandle.standardOutput.write(try JSONFile.encode(checks) + Data("\n".utf8))
        } else {
            for check in checks {
                let mark = check.passed ? "✓" : (check.required ? "✗" : "!")
                print("\(mark) \(check.name): \(check.detail)")
                if !check.passed, let fix = check.fix { print("    fix: \(fix)") }
            }
        }
        if checks.contains(where: { $0.required && !$0.passed }) { throw ExitCode.failure }
    }

    /// Whether this whisker-dev is the release build: a warning, not a failure — the debug build
    /// works (the tests use it), but the server's own share of every patch (relocate, jump table,
    /// function diff, object symbols) takes about four times as long in it.
    static var serverBuildCheck: EnvironmentCheck {
        #if DEBUG
        EnvironmentCheck(
            name: "whisker-dev build", required: false, passed: false,
            detail: "this is a debug build: the server's part of each patch takes about 4× as long as in the release build",
            fix: "swift build -c release and run .build/release/whisker-dev (./scripts/dev.sh does)")
        #else
        EnvironmentCheck(name: "whisker-dev build", required: false, passed: true, detail: "release build")
        #endif
    }
}
