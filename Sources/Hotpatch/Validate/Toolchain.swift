import Foundation

/// Finding the Rust tools the way a developer's shell would, plus rustup's default location for
/// when whisker-dev runs without `~/.cargo/bin` on PATH (a service, an IDE).
public enum Toolchain {
    /// Directories searched for cargo/rustc: PATH, then `$CARGO_HOME/bin`, then `~/.cargo/bin`.
    public static func searchPath(environment: [String: String]) -> String {
        var directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        if let cargoHome = environment["CARGO_HOME"], !cargoHome.isEmpty { directories.append("\(cargoHome)/bin") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        directories.append("\(home)/.cargo/bin")
        return directories.joined(separator: ":")
    }

    /// The absolute path of `tool` (cargo, rustc…), or nil. `CARGO` and `RUSTC` name cargo and
    /// rustc when set, as they do for cargo itself (a second toolchain for a device target:
    /// `RUSTC=/usr/bin/rustc CARGO=/usr/bin/cargo`); a set but unusable one is nil, never a
    /// silent fall back to another toolchain.
    public static func find(_ tool: String, environment: [String: String]) -> String? {
        if let variable = overrideVariables[tool], let chosen = environment[variable], !chosen.isEmpty {
            return CommandRunner.which(chosen, searchPath: searchPath(environment: environment))
        }
        return CommandRunner.which(tool, searchPath: searchPath(environment: environment))
    }

    /// The environment variables that pick a tool over PATH.
    public static let overrideVariables = ["cargo": "CARGO", "rustc": "RUSTC"]

    /// `environment` with PATH extended by the toolchain directories, so children (cargo running
    /// rustc through rustup) find the same tools we did.
    public static func environmentWithToolchainPath(_ environment: [String: String]) -> [String: String] {
        var result = environment
        result["PATH"] = searchPath(environment: environment)
        return result
    }

    /// Runs `rustc -vV` in `directory` (so a `rust-toolchain.toml` there picks the toolchain).
    public static func rustcVersion(environment: [String: String], directory: URL? = nil) throws -> RustcVersion {
        guard let rustc = find("rustc", environment: environment) else {
            throw CommandError.notFound(name: "rustc", searchPath: searchPath(environment: environment))
        }
        let result = try CommandRunner.run(Command(rustc, ["-vV"], environment: environmentWithToolchainPath(environment), workingDirectory: directory))
        guard result.succeeded, let version = RustcVersion(parsing: result.stdoutText) else {
            throw EnvironmentError.toolFailed(tool: "rustc -vV", status: result.exitStatus, output: result.stderrText)
        }
        return version
    }

    /// `rustc --print sysroot`.
    public static func rustcSysroot(environment: [String: String], directory: URL? = nil) throws -> URL {
        guard let rustc = find("rustc", environment: environment) else {
            throw CommandError.notFound(name: "rustc", searchPath: searchPath(environment: environment))
        }
        let result = try CommandRunner.run(Command(rustc, ["--print", "sysroot"], environment: environmentWithToolchainPath(environment), workingDirectory: directory))
        let path = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.succeeded, !path.isEmpty else {
            throw EnvironmentError.toolFailed(tool: "rustc --print sysroot", status: result.exitStatus, output: result.stderrText)
        }
        return URL(fileURLWithPath: path)
    }
}

/// What `rustc -vV` says.
public struct RustcVersion: Codable, Sendable, Equatable {
    /// e.g. `1.95.0`.
    public var release: String
    /// The host triple, e.g. `x86_64-unknown-linux-gnu`.
    public var host: String
    public var commitHash: String?
    public var llvmVersion: String?
    /// The first line, e.g. `rustc 1.95.0 (59807616e 2026-04-14)`.
    public var summary: String

    public init?(parsing text: String) {
        var fields: [String: String] = [:]
        let lines = text.split(whereSeparator: \.isNewline)
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard let release = fields["release"], let host = fields["host"] else { return nil }
        self.release = release
        self.host = host
        self.commitHash = fields["commit-hash"]
        self.llvmVersion = fields["LLVM version"]
        self.summary = lines.first.map(String.init) ?? "rustc \(release)"
    }
}
