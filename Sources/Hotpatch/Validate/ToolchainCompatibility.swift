import Foundation

/// Whether a cargo, a rustc and a project's lock file work together: a second toolchain for a
/// device (Debian's cargo 1.65 + rustc 1.63) meets lock files and flags from a newer one.
enum ToolchainCompatibility {
    /// `doctor`'s checks for `cargo` and `rustc` releases (`1.65.0`), and the lock file of the project.
    static func checks(cargo: String, rustc: String, projectDirectory: URL?) -> [EnvironmentCheck] {
        var checks: [EnvironmentCheck] = []
        if let cargoMinor = minor(cargo), let rustcMinor = minor(rustc), cargoMinor > rustcMinor + 2 {
            checks.append(EnvironmentCheck(
                name: "cargo and rustc", required: false, passed: false,
                detail: "cargo \(cargo) is newer than rustc \(rustc): it asks rustc for things that rustc doesn't know (e.g. `--print split-debuginfo`)",
                fix: "use the cargo of the same toolchain (--cargo, or CARGO=…; Debian's is /usr/bin/cargo)"))
        }
        if let projectDirectory, let lockVersion = lockFileVersion(in: projectDirectory),
           let cargoMinor = minor(cargo), let needed = minimumCargoMinor[lockVersion], cargoMinor < needed {
            checks.append(EnvironmentCheck(
                name: "Cargo.lock", required: true, passed: false,
                detail: "lock file version \(lockVersion) needs cargo 1.\(needed) or newer; cargo is \(cargo)",
                fix: "write the lock file in an older format: change `version = \(lockVersion)` to `version = 3` at the top of Cargo.lock (cargo keeps it)"))
        }
        return checks
    }

    /// The first cargo that reads each lock file version.
    static let minimumCargoMinor = [4: 78]

    /// `version = N` at the top of `Cargo.lock` (nil: no lock file, or the unversioned v1/v2 format).
    static func lockFileVersion(in directory: URL) -> Int? {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("Cargo.lock"), encoding: .utf8) else { return nil }
        for line in text.split(whereSeparator: \.isNewline).prefix(10) {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0] == "version" { return Int(parts[1]) }
        }
        return nil
    }

    private static func minor(_ release: String) -> Int? {
        let parts = release.split(separator: ".")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }
}
