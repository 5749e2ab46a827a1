import Foundation

extension RustcCommandLine {
    /// The target the rustc call compiles for: its `--target` (a triple, or a `.json` target spec
    /// whose file name is the triple), nil when it has none (the host).
    public var targetTriple: String? {
        guard let target = value(of: "--target"), !target.isEmpty else { return nil }
        if target.hasSuffix(".json") {
            return URL(fileURLWithPath: target).deletingPathExtension().lastPathComponent
        }
        return target
    }
}

extension EnvironmentCheck {
    /// Throws unless hot-patching can work for `triple`: an architecture the stub object encodes
    /// (x86_64, aarch64) on an OS the link plan covers (Linux, Android, macOS). With `sysroot`, also
    /// checks that the Rust standard library for the target is installed. The fat build runs it
    /// before cargo, so an unpatchable target fails in a second, not after a full build.
    public static func ensureTargetSupported(_ triple: String, sysroot: URL? = nil) throws {
        let parts = triple.split(separator: "-").map(String.init)
        guard let arch = parts.first, ["x86_64", "aarch64"].contains(arch) else {
            throw EnvironmentError.unsupportedTarget(triple: triple, reason: "only x86_64 and aarch64 code can be patched")
        }
        let isLinux = triple.contains("-linux-gnu") || triple.contains("-linux-android")
        let isMac = triple.hasSuffix("-apple-darwin")
        guard isLinux || isMac else {
            throw EnvironmentError.unsupportedTarget(triple: triple, reason: "only Linux (glibc), Android and macOS targets can be patched")
        }
        if let sysroot {
            let std = sysroot.appendingPathComponent("lib/rustlib/\(triple)/lib")
            guard FileManager.default.fileExists(atPath: std.path) else {
                throw EnvironmentError.targetNotInstalled(triple: triple, looked: std.path)
            }
        }
    }
}
