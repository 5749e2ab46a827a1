import Foundation

/// The linker rustc would use for a target, and where that choice came from.
public struct ResolvedLinker: Codable, Sendable, Equatable {
    /// A path or a command name looked up on PATH (`cc`).
    public var command: String
    /// Where it came from, for messages: `RUSTFLAGS`, `CARGO_TARGET_…_LINKER`, a config file path,
    /// `Android NDK (<source>)` or `default`.
    public var source: String

    public init(command: String, source: String) {
        self.command = command
        self.source = source
    }

    /// Resolves the linker the way cargo + rustc pick it: `-C linker` in `CARGO_ENCODED_RUSTFLAGS` /
    /// `RUSTFLAGS`, then `CARGO_TARGET_<TRIPLE>_LINKER`, then `target.<triple>.linker` in the cargo
    /// config files seen from `projectDirectory`, then (Android) the NDK's clang, then `cc`, which
    /// is rustc's default for the Linux and Apple targets.
    public static func resolve(
        targetTriple: String,
        projectDirectory: URL,
        environment: [String: String],
        androidAPILevel: Int = AndroidNDK.defaultAPILevel
    ) -> ResolvedLinker {
        if let flags = RustFlags.fromEnvironment(environment), let linker = flags.linker {
            return ResolvedLinker(command: linker, source: flags.variable)
        }
        let variable = cargoTargetVariable(targetTriple, "LINKER")
        if let linker = environment[variable], !linker.isEmpty {
            return ResolvedLinker(command: linker, source: variable)
        }
        let config = CargoConfig(directory: projectDirectory, environment: environment)
        if let (value, file) = config.string(["target", targetTriple, "linker"]) {
            // cargo resolves a config linker with a `/` relative to the directory holding `.cargo/`.
            let command = value.contains("/") && !value.hasPrefix("/")
                ? file.baseDirectory.appendingPathComponent(value).standardizedFileURL.path
                : value
            return ResolvedLinker(command: command, source: file.path.path)
        }
        if targetTriple.contains("android"),
           let ndk = try? AndroidNDK.make(environment: environment),
           let clang = try? ndk.clang(forTarget: targetTriple, apiLevel: androidAPILevel) {
            return ResolvedLinker(command: clang.path, source: "Android NDK (\(ndk.source))")
        }
        return ResolvedLinker(command: "cc", source: "default")
    }

    /// `CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_<KEY>` for `x86_64-unknown-linux-gnu`.
    public static func cargoTargetVariable(_ triple: String, _ key: String) -> String {
        let upper = triple.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        return "CARGO_TARGET_\(String(upper))_\(key)"
    }
}

/// The user's extra rustc flags from the environment (`CARGO_ENCODED_RUSTFLAGS` wins over
/// `RUSTFLAGS`, as in cargo), with helpers to find and drop a `-C linker` in them.
public struct RustFlags: Sendable, Equatable {
    public var variable: String
    public var flags: [String]

    public static func fromEnvironment(_ environment: [String: String]) -> RustFlags? {
        if let encoded = environment["CARGO_ENCODED_RUSTFLAGS"] {
            return RustFlags(variable: "CARGO_ENCODED_RUSTFLAGS", flags: encoded.split(separator: ShimEnvironment.argumentSeparator).map(String.init))
        }
        if let plain = environment["RUSTFLAGS"] {
            return RustFlags(variable: "RUSTFLAGS", flags: plain.split(whereSeparator: \.isWhitespace).map(String.init))
        }
        return nil
    }

    /// The value of the last `-C linker=…`.
    public var linker: String? {
        RustcCommandLine(flags).codegen("linker").flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The flags without any `-C linker=…` (which would override the linker shim).
    public var withoutLinker: RustFlags {
        let kept = RustcCommandLine(flags).arguments.filter { $0.codegenKey != "linker" }.flatMap(\.spelling)
        return RustFlags(variable: variable, flags: kept)
    }

    /// The variable's new value in its own encoding.
    public var encoded: String {
        variable == "CARGO_ENCODED_RUSTFLAGS" ? flags.joined(separator: String(ShimEnvironment.argumentSeparator)) : flags.joined(separator: " ")
    }
}

extension ResolvedLinker {
    /// Why this GCC-style driver can't link for `target` — `-dumpmachine` names another
    /// architecture, as the host's `cc` does when a cross build configures no linker — or nil
    /// (same architecture, or a linker that doesn't say).
    public func architectureMismatch(target: String, environment: [String: String]) -> String? {
        guard let path = CommandRunner.which(command, searchPath: environment["PATH"]),
              let result = try? CommandRunner.run(Command(path, ["-dumpmachine"], environment: environment)), result.succeeded,
              let machine = result.stdoutText.split(whereSeparator: \.isNewline).first.map({ $0.trimmingCharacters(in: .whitespaces) }),
              let linkerArchitecture = machine.split(separator: "-").first, let targetArchitecture = target.split(separator: "-").first
        else { return nil }
        let same = linkerArchitecture == targetArchitecture || (linkerArchitecture == "arm64" && targetArchitecture == "aarch64")
        return same ? nil : "it links for \(machine), not \(targetArchitecture)"
    }
}
