/// Why a fat build failed.
public enum FatBuildError: HotpatchError {
    case noCargoToml(project: String)
    case cargoFailed(exitStatus: Int32, diagnostics: String, logPath: String)
    case noBinary(project: String)
    case ambiguousBinary(names: [String])
    case captureMissing(crate: String, directory: String)
    case linkerCaptureMissing(binary: String, directory: String)
    case cannotKeepBinary(path: String, reason: String)
    case crossLinkerMismatch(target: String, linker: String, reason: String)

    public var code: String {
        switch self {
        case .noCargoToml: "no_cargo_toml"
        case .cargoFailed: "cargo_failed"
        case .noBinary: "no_binary"
        case .ambiguousBinary: "ambiguous_binary"
        case .captureMissing: "capture_missing"
        case .linkerCaptureMissing: "linker_capture_missing"
        case .cannotKeepBinary: "cannot_keep_binary"
        case .crossLinkerMismatch: "cross_linker_mismatch"
        }
    }

    public var message: String {
        switch self {
        case let .noCargoToml(project): "no Cargo.toml in \(project)"
        case let .cargoFailed(status, _, _):
            "cargo build failed (exit status \(status))"
        case let .noBinary(project): "cargo built no executable in \(project)"
        case let .ambiguousBinary(names): "cargo built several executables (\(names.joined(separator: ", "))); choose one"
        case let .captureMissing(crate, directory): "rustc call for crate `\(crate)` was not captured in \(directory)"
        case let .linkerCaptureMissing(binary, directory): "the link of \(binary) was not captured in \(directory)"
        case let .cannotKeepBinary(path, reason): "cannot keep a copy of the binary at \(path): \(reason)"
        case let .crossLinkerMismatch(target, linker, reason): "the linker for \(target) is \(linker), but \(reason)"
        }
    }

    public var diagnostics: String? {
        guard case let .cargoFailed(_, diagnostics, _) = self, !diagnostics.isEmpty else { return nil }
        return diagnostics
    }

    public var hint: String? {
        switch self {
        case .noCargoToml: "pass the directory that holds the package's Cargo.toml with --project"
        case let .cargoFailed(_, _, logPath): "fix the errors above and build again; cargo's full output is in \(logPath)"
        case .noBinary: "hot-patching needs a binary target: use --package/--bin to pick one"
        case let .ambiguousBinary(names): "pass --bin \(names.first ?? "NAME")"
        case .captureMissing, .linkerCaptureMissing: "check for a RUSTC_WRAPPER, RUSTC_WORKSPACE_WRAPPER or linker setting that bypasses whisker's shims, then build again"
        case .cannotKeepBinary: "check free space and permissions of the cache directory"
        case let .crossLinkerMismatch(target, _, _):
            "name a cross linker in the project's .cargo/config.toml ([target.\(target)] linker = \"\(target.split(separator: "-").first ?? "aarch64")-linux-gnu-gcc\", say) or CARGO_TARGET_\(target.uppercased().replacingOccurrences(of: "-", with: "_"))_LINKER; `whisker-dev doctor --target \(target)` checks it"
        }
    }
}
