import Foundation

/// How a fat build routes links through `whisker-linker-shim`: which shim, which real linker it
/// runs, where it records, and the extra link arguments. `cargoEnvironment` is what to add to
/// cargo's environment.
///
/// The shim is installed as the target's linker with `CARGO_TARGET_<TRIPLE>_LINKER` (not
/// `-Clinker` in `RUSTFLAGS`): setting `RUSTFLAGS` would silently replace the user's
/// `build.rustflags` / `target.<triple>.rustflags` from `.cargo/config.toml`. For the same reason
/// `--export-dynamic` is appended by the shim (`WHISKER_LINK_ARGS`) instead of `-Clink-arg`.
public struct LinkerCaptureConfig: Codable, Sendable, Equatable {
    public var shim: URL
    public var realLinker: ResolvedLinker
    public var captureDirectory: URL
    public var targetTriple: String
    public var extraLinkArguments: [String]

    public init(shim: URL, realLinker: ResolvedLinker, captureDirectory: URL, targetTriple: String, extraLinkArguments: [String]? = nil) {
        self.shim = shim
        self.realLinker = realLinker
        self.captureDirectory = captureDirectory
        self.targetTriple = targetTriple
        self.extraLinkArguments = extraLinkArguments ?? Self.defaultExtraLinkArguments(for: targetTriple)
    }

    /// ELF targets need the executable's symbols (std's thread-locals included) in `.dynsym` so a
    /// patch library can bind to them (`--export-dynamic`), and every function of the linked
    /// crates kept (`--no-gc-sections`, after rustc's `--gc-sections`): an edit that starts using
    /// std code the app never called (a first `HashSet`) needs it in the running executable,
    /// since the patch can't carry a copy of std. Mach-O executables keep theirs reachable.
    public static func defaultExtraLinkArguments(for targetTriple: String) -> [String] {
        targetTriple.contains("linux") || targetTriple.contains("android") ? ["-Wl,--export-dynamic", "-Wl,--no-gc-sections"] : []
    }

    /// Variables to set for cargo: the target's linker is the shim; the shim's own settings.
    public var cargoEnvironment: [String: String] {
        [
            ResolvedLinker.cargoTargetVariable(targetTriple, "LINKER"): shim.path,
            ShimEnvironment.realLinker: realLinker.command,
            ShimEnvironment.captureDirectory: captureDirectory.path,
            ShimEnvironment.extraLinkArguments: extraLinkArguments.joined(separator: String(ShimEnvironment.argumentSeparator)),
            // ELF patches bind to the executable's copy of every Rust library (they can't carry one).
            ShimEnvironment.wholeArchive: targetTriple.contains("linux") || targetTriple.contains("android") ? "1" : "0",
        ]
    }
}
