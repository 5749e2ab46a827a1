import Foundation

/// One rustc call cargo made for a workspace crate, as `whisker-rustc-shim` recorded it
/// (`captures/rustc/<crate>-<crate types>.json`). Replaying `rustc` with `arguments` in
/// `workingDirectory` under `environment` compiles the crate the way the fat build did; the other
/// fields are parsed from the arguments once, at capture time, for readers of the file.
public struct CapturedRustcInvocation: Codable, Sendable, Equatable {
    /// The real rustc cargo asked the wrapper to run (usually an absolute toolchain path).
    public var rustc: String
    /// rustc's arguments with `@argfile`s expanded.
    public var arguments: [String]
    public var workingDirectory: String
    /// The whole environment rustc saw: `env!`/`option_env!` may read any variable (cargo's
    /// `CARGO_*`, `OUT_DIR`, a build script's `cargo:rustc-env`), so a faithful replay needs all of it.
    /// Capture files are written with mode 0600 for that reason.
    public var environment: [String: String]
    public var crateName: String
    public var crateTypes: [String]
    /// Crate root relative to `workingDirectory` (or absolute), e.g. `src/main.rs`.
    public var sourcePath: String?
    public var outDir: String?
    /// The dep-info file rustc wrote (`<out-dir>/<crate><extra-filename>.d`), when `--emit` asked for one.
    public var depInfoPath: String?
    /// `-C extra-filename=…` (e.g. `-609f57ec79b3927d`); symbol names depend on it and on `metadata`.
    public var extraFilename: String?
    /// `-C metadata=…`.
    public var metadata: String?
    public var edition: String?
    /// `--target` when cargo passed one (cross builds), else nil (host).
    public var target: String?
    /// `CARGO_PRIMARY_PACKAGE` was set: the crate belongs to a package selected on cargo's command
    /// line (the package being built), not one built only as a dependency.
    public var isPrimary: Bool
    /// The wrapper only sees workspace members (cargo's `RUSTC_WORKSPACE_WRAPPER` contract).
    public var isWorkspaceMember: Bool
    /// When the shim recorded it (seconds since 1970).
    public var capturedAt: Double

    public init(rustc: String, arguments: [String], workingDirectory: String, environment: [String: String], capturedAt: Date = Date()) throws {
        let commandLine = RustcCommandLine(arguments)
        guard let crateName = commandLine.value(of: "--crate-name") else {
            throw CaptureError.notACompilation(arguments: arguments)
        }
        self.rustc = rustc
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.crateName = crateName
        self.crateTypes = commandLine.crateTypes
        self.sourcePath = commandLine.positionals.first
        self.outDir = commandLine.value(of: "--out-dir").map { Self.absolute($0, in: workingDirectory) }
        self.extraFilename = commandLine.codegen("extra-filename")
        self.metadata = commandLine.codegen("metadata")
        self.edition = commandLine.value(of: "--edition")
        self.target = commandLine.value(of: "--target")
        self.isPrimary = environment["CARGO_PRIMARY_PACKAGE"] == "1"
        self.isWorkspaceMember = true
        self.capturedAt = capturedAt.timeIntervalSince1970
        let emits = commandLine.values(of: "--emit").flatMap { $0.split(separator: ",") }
        let wantsDepInfo = emits.contains { $0 == "dep-info" || $0.hasPrefix("dep-info=") }
        if let explicit = emits.first(where: { $0.hasPrefix("dep-info=") }) {
            self.depInfoPath = Self.absolute(String(explicit.dropFirst("dep-info=".count)), in: workingDirectory)
        } else if wantsDepInfo, let outDir {
            self.depInfoPath = URL(fileURLWithPath: outDir).appendingPathComponent("\(crateName)\(extraFilename ?? "").d").path
        } else {
            self.depInfoPath = nil
        }
    }

    /// True for calls that compile a crate; false for cargo's probes (`-vV`, `--print …`), which have
    /// no `--crate-name` or only the placeholder `___` with `--print`.
    public static func isCompilation(_ arguments: [String]) -> Bool {
        let commandLine = RustcCommandLine(arguments)
        return commandLine.value(of: "--crate-name") != nil && !commandLine.contains("--print")
    }

    /// `<crate>-<types>.json`, e.g. `app-bin.json`, `mylib-lib.json`, `ffi-cdylib,rlib.json`.
    public var captureFilename: String {
        Self.captureFilename(crateName: crateName, crateTypes: crateTypes)
    }

    public static func captureFilename(crateName: String, crateTypes: [String]) -> String {
        let types = crateTypes.isEmpty ? "bin" : crateTypes.sorted().joined(separator: ",")
        return "\(crateName)-\(types).json"
    }

    /// A crate compiled from a build script (`build.rs`), not a library or binary of the package.
    public var isBuildScript: Bool { crateName.hasPrefix("build_script_") }

    /// A binary crate (the tip of the dependency graph when it is the one being run).
    public var isBinary: Bool { crateTypes.isEmpty || crateTypes.contains("bin") }

    static func absolute(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
    }
}

/// Something the capture shims could not record.
public enum CaptureError: HotpatchError {
    case notACompilation(arguments: [String])
    case missingCaptureDirectory(variable: String)

    public var code: String {
        switch self {
        case .notACompilation: "capture_not_a_compilation"
        case .missingCaptureDirectory: "capture_directory_missing"
        }
    }

    public var message: String {
        switch self {
        case let .notACompilation(arguments): "rustc call has no --crate-name: \(arguments.prefix(6).joined(separator: " "))"
        case let .missingCaptureDirectory(variable): "\(variable) is not set"
        }
    }

    public var hint: String? { nil }
}

extension CapturedRustcInvocation {
    /// The capture stage for rustc (run by `whisker-rustc-shim`): writes
    /// `rustc/<crate>-<types>.json` under `captureDirectory` for a call that compiles a crate and
    /// returns it; probes (`-vV`, `--print`) are not recorded (nil).
    @discardableResult
    public static func make(
        rustc: String, arguments: [String], environment: [String: String], captureDirectory: URL,
        workingDirectory cwd: String = FileManager.default.currentDirectoryPath
    ) throws -> CapturedRustcInvocation? {
        let expanded = try ResponseFile.expandRustcArguments(arguments, workingDirectory: URL(fileURLWithPath: cwd))
        guard isCompilation(expanded) else { return nil }
        let capture = try CapturedRustcInvocation(rustc: rustc, arguments: expanded, workingDirectory: cwd, environment: environment)
        let file = captureDirectory.appendingPathComponent("rustc").appendingPathComponent(capture.captureFilename)
        try JSONFile.write(capture, to: file, permissions: 0o600)
        return capture
    }
}
