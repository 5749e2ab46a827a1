import Foundation

/// One line of `whisker-dev doctor`: a tool or setting, whether it is usable, and how to fix it.
public struct EnvironmentCheck: Codable, Sendable, Equatable {
    public var name: String
    /// A failed required check means builds or patches cannot work; an optional one limits features.
    public var required: Bool
    public var passed: Bool
    /// What was found (version, path) or what went wrong.
    public var detail: String
    /// How to fix a failed check.
    public var fix: String?

    public init(name: String, required: Bool, passed: Bool, detail: String, fix: String? = nil) {
        self.name = name
        self.required = required
        self.passed = passed
        self.detail = detail
        self.fix = fix
    }
}

extension EnvironmentCheck {
    /// The validate stage (`whisker-dev doctor`, `serve` at start): checks what the pipeline needs:
    /// cargo and rustc (versions, host), a C compiler driver to link with, and lld (on PATH or
    /// bundled with rustc). With `target`, also that the target is one we can patch and that its
    /// standard library (and for Android, the NDK) is installed. One check per line; it never
    /// throws, so `doctor` can show every problem at once.
    public static func run(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        projectDirectory: URL? = nil,
        target: String? = nil
    ) -> [EnvironmentCheck] {
        var checks: [EnvironmentCheck] = []
        let toolEnvironment = Toolchain.environmentWithToolchainPath(environment)
        let rustupFix = "install Rust with rustup (https://rustup.rs) and make sure ~/.cargo/bin is on PATH"

        var cargoRelease: String?
        if let cargo = Toolchain.find("cargo", environment: environment) {
            let result = try? CommandRunner.run(Command(cargo, ["-V"], environment: toolEnvironment, workingDirectory: projectDirectory))
            let version = result.flatMap { $0.succeeded ? firstLine($0.stdoutText) : nil }
            cargoRelease = version.flatMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
            checks.append(EnvironmentCheck(name: "cargo", required: true, passed: version != nil,
                                           detail: version.map { "\($0) (\(cargo))" } ?? "\(cargo) -V failed: \(firstLine(result?.stderrText ?? "") ?? "")",
                                           fix: version == nil ? rustupFix : nil))
        } else {
            checks.append(EnvironmentCheck(name: "cargo", required: true, passed: false, detail: "not found", fix: rustupFix))
        }

        var version: RustcVersion?
        var sysroot: URL?
        do {
            version = try Toolchain.rustcVersion(environment: environment, directory: projectDirectory)
            sysroot = try? Toolchain.rustcSysroot(environment: environment, directory: projectDirectory)
            checks.append(EnvironmentCheck(name: "rustc", required: true, passed: true,
                                           detail: "\(version?.summary ?? "") host \(version?.host ?? "?")"))
        } catch {
            checks.append(EnvironmentCheck(name: "rustc", required: true, passed: false, detail: "\(error)", fix: rustupFix))
        }

        if let cargoRelease, let rustcRelease = version?.release {
            checks += ToolchainCompatibility.checks(cargo: cargoRelease, rustc: rustcRelease, projectDirectory: projectDirectory)
        }

        let host = version?.host ?? "x86_64-unknown-linux-gnu"
        let linker = ResolvedLinker.resolve(targetTriple: host, projectDirectory: projectDirectory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath), environment: environment)
        checks.append(checkTool(name: "C linker", command: linker.command, versionArguments: ["--version"], environment: toolEnvironment,
                                source: linker.source, fix: "install a C toolchain (Debian: apt install gcc; macOS: xcode-select --install)"))

        checks.append(checkLLD(environment: toolEnvironment, sysroot: sysroot, host: host))

        if let target {
            do {
                try ensureTargetSupported(target, sysroot: sysroot)
                checks.append(EnvironmentCheck(name: "target \(target)", required: true, passed: true, detail: "supported, standard library installed"))
                if target != host {
                    let targetLinker = ResolvedLinker.resolve(
                        targetTriple: target, projectDirectory: projectDirectory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                        environment: environment)
                    let variable = "CARGO_TARGET_\(target.uppercased().replacingOccurrences(of: "-", with: "_"))_LINKER"
                    let fix = "install a cross C toolchain (Debian: apt install gcc-\(target.split(separator: "-").first ?? "aarch64")-linux-gnu) and name it in .cargo/config.toml ([target.\(target)] linker = …) or \(variable)"
                    var check = checkTool(
                        name: "linker for \(target)", command: targetLinker.command, versionArguments: ["--version"],
                        environment: toolEnvironment, source: targetLinker.source, fix: fix)
                    if check.passed, let mismatch = targetLinker.architectureMismatch(target: target, environment: toolEnvironment) {
                        check = EnvironmentCheck(name: check.name, required: true, passed: false, detail: "\(check.detail), but \(mismatch)", fix: fix)
                    }
                    checks.append(check)
                }
            } catch let error as HotpatchError {
                checks.append(EnvironmentCheck(name: "target \(target)", required: true, passed: false, detail: error.message, fix: error.hint))
            } catch {
                checks.append(EnvironmentCheck(name: "target \(target)", required: true, passed: false, detail: "\(error)"))
            }
        }
        if target?.contains("android") == true || environment["ANDROID_NDK_HOME"] != nil || environment["ANDROID_HOME"] != nil {
            checks.append(checkNDK(environment: environment, target: target))
        }
        return checks
    }

    private static func firstLine(_ text: String) -> String? {
        text.split(whereSeparator: \.isNewline).first.map { String($0).trimmingCharacters(in: .whitespaces) }
    }

    private static func checkTool(name: String, command: String, versionArguments: [String], environment: [String: String], source: String, fix: String) -> EnvironmentCheck {
        guard let path = CommandRunner.which(command, searchPath: environment["PATH"]) else {
            return EnvironmentCheck(name: name, required: true, passed: false, detail: "`\(command)` (from \(source)) not found", fix: fix)
        }
        let result = try? CommandRunner.run(Command(path, versionArguments, environment: environment))
        guard let result, result.succeeded, let line = firstLine(result.stdoutText.isEmpty ? result.stderrText : result.stdoutText) else {
            return EnvironmentCheck(name: name, required: true, passed: false, detail: "\(path) \(versionArguments.joined(separator: " ")) failed", fix: fix)
        }
        return EnvironmentCheck(name: name, required: true, passed: true, detail: "\(line) (\(path))")
    }

    /// lld links the patch libraries: `ld.lld` on PATH, or the copy rustc ships in its sysroot
    /// (`lib/rustlib/<host>/bin/gcc-ld/ld.lld`, a wrapper that runs `rust-lld`).
    private static func checkLLD(environment: [String: String], sysroot: URL?, host: String) -> EnvironmentCheck {
        let fix = "install lld (Debian: apt install lld) or use a rustup toolchain, which bundles it"
        if let path = CommandRunner.which("ld.lld", searchPath: environment["PATH"]) {
            let result = try? CommandRunner.run(Command(path, ["--version"], environment: environment))
            if let result, result.succeeded, let line = firstLine(result.stdoutText) {
                return EnvironmentCheck(name: "lld", required: true, passed: true, detail: "\(line) (\(path))")
            }
        }
        if let sysroot {
            let bundled = sysroot.appendingPathComponent("lib/rustlib/\(host)/bin/gcc-ld/ld.lld")
            if FileManager.default.isExecutableFile(atPath: bundled.path) {
                return EnvironmentCheck(name: "lld", required: true, passed: true, detail: "rustc's bundled lld (\(bundled.path))")
            }
        }
        return EnvironmentCheck(name: "lld", required: true, passed: false, detail: "neither ld.lld on PATH nor rustc's bundled gcc-ld/ld.lld found", fix: fix)
    }

    private static func checkNDK(environment: [String: String], target: String?) -> EnvironmentCheck {
        let required = target?.contains("android") == true
        do {
            let ndk = try AndroidNDK.make(environment: environment)
            if let target, target.contains("android") {
                let clang = try ndk.clang(forTarget: target)
                return EnvironmentCheck(name: "Android NDK", required: required, passed: true, detail: "\(ndk.version ?? "unknown version") at \(ndk.root.path); \(clang.lastPathComponent)")
            }
            return EnvironmentCheck(name: "Android NDK", required: required, passed: true, detail: "\(ndk.version ?? "unknown version") at \(ndk.root.path) (from \(ndk.source))")
        } catch let error as HotpatchError {
            return EnvironmentCheck(name: "Android NDK", required: required, passed: false, detail: error.message, fix: error.hint)
        } catch {
            return EnvironmentCheck(name: "Android NDK", required: required, passed: false, detail: "\(error)")
        }
    }
}
