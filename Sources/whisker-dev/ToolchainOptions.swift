import ArgumentParser
import Foundation

/// Which toolchain builds for which target: shared by `build`, `serve`, `patch` and `doctor`.
///
/// `--cargo`/`--rustc` do what cargo users do with `CARGO`/`RUSTC`: they are exported to the
/// process environment before anything runs, so the fat build, the thin rebuild's replays, the
/// warm-up and `doctor` all see the same tools (cargo itself honours `RUSTC`). A second
/// toolchain per project is the usual case for devices: Debian's rustc 1.63 with its aarch64 std.
struct ToolchainOptions: ParsableArguments {
    @Option(help: "Target triple (cargo --target), e.g. aarch64-unknown-linux-gnu; default: cargo's (build.target, else the host).")
    var target: String?

    @Option(help: "The cargo to run (default: $CARGO, else cargo on PATH).")
    var cargo: String?

    @Option(help: "The rustc cargo runs (default: $RUSTC, else rustc on PATH).")
    var rustc: String?

    func validate() throws {
        if let target, target.isEmpty || target.contains(where: \.isWhitespace) {
            throw ValidationError("--target '\(target)' is not a target triple (e.g. aarch64-unknown-linux-gnu)")
        }
        for (flag, value) in [("--cargo", cargo), ("--rustc", rustc)] {
            guard let value else { continue }
            guard !value.isEmpty, FileManager.default.isExecutableFile(atPath: Self.absolutePath(value)) else {
                throw ValidationError("\(flag) '\(value)' is not an executable file (give a path, e.g. /usr/bin/\(flag.dropFirst(2)))")
            }
        }
    }

    /// Exports `CARGO`/`RUSTC` for every stage this process runs.
    func apply() {
        if let cargo { setenv("CARGO", Self.absolutePath(cargo), 1) }
        if let rustc { setenv("RUSTC", Self.absolutePath(rustc), 1) }
    }

    /// Relative paths are the user's, from the directory they ran the command in; later stages
    /// run tools from other directories.
    private static func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
