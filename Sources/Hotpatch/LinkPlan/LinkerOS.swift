/// The operating systems a patch library can be linked for; each has its own link recipe.
public enum LinkerOS: String, Sendable, Hashable, CaseIterable, Codable {
    /// ELF `.so` with the host C compiler driver and lld.
    case linux
    /// Mach-O `.dylib` with `-undefined dynamic_lookup`.
    case macos
    /// ELF `.so` with the NDK's clang and lld.
    case android

    /// The OS of a target triple (`x86_64-unknown-linux-gnu`, `aarch64-linux-android`,
    /// `aarch64-apple-darwin`), or nil for one without a recipe (Windows, wasm, iOS, …).
    public init?(triple: String) {
        let parts = triple.split(separator: "-").map(String.init)
        if parts.contains(where: { $0.hasPrefix("android") }) {
            self = .android
        } else if parts.contains("darwin") || parts.contains(where: { $0.hasPrefix("macos") }) {
            self = .macos
        } else if parts.contains("linux") {
            self = .linux
        } else {
            return nil
        }
    }

    /// The file name extension of a shared library on this OS.
    public var libraryExtension: String {
        self == .macos ? "dylib" : "so"
    }

    /// The OS this process runs on: what a patch for a locally running app is linked for.
    public static var host: LinkerOS {
        #if os(macOS)
            return .macos
        #else
            // Linux, and anything else treated as Linux (the only other recipe that runs locally).
            return .linux
        #endif
    }
}
