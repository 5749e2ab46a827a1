import Foundation

/// An Android NDK installation and the clang it provides for each Rust Android target.
/// Found through `ANDROID_NDK_HOME`, `ANDROID_NDK_ROOT`, then the newest `$ANDROID_HOME/ndk/<version>`
/// (also `$ANDROID_SDK_ROOT`, the older name of `ANDROID_HOME`).
public struct AndroidNDK: Sendable, Equatable {
    public let root: URL
    /// The NDK version, from the `ndk/<version>` directory name or `source.properties`, when known.
    public let version: String?
    /// How it was found, e.g. `ANDROID_NDK_HOME`, for messages.
    public let source: String

    /// API level rustc's Android targets assume (their minimum).
    public static let defaultAPILevel = 21

    public init(root: URL, version: String?, source: String) {
        self.root = root
        self.version = version
        self.source = source
    }

    /// Finds the NDK from the environment; throws saying which variables were looked at.
    public static func make(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AndroidNDK {
        for variable in ["ANDROID_NDK_HOME", "ANDROID_NDK_ROOT"] {
            guard let path = environment[variable], !path.isEmpty else { continue }
            let root = URL(fileURLWithPath: path).standardizedFileURL
            guard isNDK(root) else { throw AndroidNDKError.notAnNDK(path: root.path, variable: variable) }
            return AndroidNDK(root: root, version: readVersion(root), source: variable)
        }
        for variable in ["ANDROID_HOME", "ANDROID_SDK_ROOT"] {
            guard let path = environment[variable], !path.isEmpty else { continue }
            let ndkDirectory = URL(fileURLWithPath: path).appendingPathComponent("ndk")
            let versions = ((try? FileManager.default.contentsOfDirectory(atPath: ndkDirectory.path)) ?? [])
                .filter { isNDK(ndkDirectory.appendingPathComponent($0)) }
                .sorted(by: { compareVersions($0, $1) })
            if let newest = versions.last {
                return AndroidNDK(root: ndkDirectory.appendingPathComponent(newest), version: newest, source: "\(variable)/ndk")
            }
            let bundle = URL(fileURLWithPath: path).appendingPathComponent("ndk-bundle")
            if isNDK(bundle) { return AndroidNDK(root: bundle, version: readVersion(bundle), source: "\(variable)/ndk-bundle") }
        }
        throw AndroidNDKError.notFound
    }

    /// `toolchains/llvm/prebuilt/<host-tag>/bin`, preferring this host's tag.
    public func toolchainBinDirectory() throws -> URL {
        let prebuilt = root.appendingPathComponent("toolchains/llvm/prebuilt")
        let tags = ((try? FileManager.default.contentsOfDirectory(atPath: prebuilt.path)) ?? []).sorted()
        let tag = tags.first(where: { $0 == Self.hostTag }) ?? (tags.count == 1 ? tags.first : nil)
        guard let tag else { throw AndroidNDKError.noPrebuiltToolchain(path: prebuilt.path, expected: Self.hostTag) }
        return prebuilt.appendingPathComponent(tag).appendingPathComponent("bin")
    }

    /// The clang that compiles and links for `rustTriple` at `apiLevel`:
    /// `toolchains/llvm/prebuilt/<host>/bin/<clang triple><api>-clang`.
    public func clang(forTarget rustTriple: String, apiLevel: Int = AndroidNDK.defaultAPILevel) throws -> URL {
        guard let clangTriple = Self.clangTriple(forRustTarget: rustTriple) else {
            throw AndroidNDKError.unsupportedTarget(rustTriple)
        }
        let url = try toolchainBinDirectory().appendingPathComponent("\(clangTriple)\(apiLevel)-clang")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw AndroidNDKError.clangMissing(path: url.path, apiLevel: apiLevel)
        }
        return url
    }

    /// The NDK's triple prefix for a Rust Android target; 32-bit ARM differs (`armv7a-…`).
    public static func clangTriple(forRustTarget rustTriple: String) -> String? {
        switch rustTriple {
        case "aarch64-linux-android": "aarch64-linux-android"
        case "armv7-linux-androideabi", "thumbv7neon-linux-androideabi", "arm-linux-androideabi": "armv7a-linux-androideabi"
        case "i686-linux-android": "i686-linux-android"
        case "x86_64-linux-android": "x86_64-linux-android"
        case "riscv64-linux-android": "riscv64-linux-android"
        default: nil
        }
    }

    /// The prebuilt directory name for this machine. The NDK ships macOS tools (universal) under
    /// `darwin-x86_64` on Apple silicon too.
    public static var hostTag: String {
        #if os(macOS)
        return "darwin-x86_64"
        #elseif os(Windows)
        return "windows-x86_64"
        #else
        return "linux-x86_64"
        #endif
    }

    static func isNDK(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("toolchains/llvm/prebuilt").path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// `Pkg.Revision = 26.1.10909125` from `source.properties`.
    static func readVersion(_ root: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: root.appendingPathComponent("source.properties").path) else { return nil }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0] == "Pkg.Revision" { return parts[1] }
        }
        return nil
    }

    /// Numeric comparison of dotted versions (`9.0` < `10.0`, `26.1.1` < `26.10`); non-numeric parts compare as text.
    static func compareVersions(_ a: String, _ b: String) -> Bool {
        let lhs = a.split(whereSeparator: { $0 == "." || $0 == "-" })
        let rhs = b.split(whereSeparator: { $0 == "." || $0 == "-" })
        for (l, r) in zip(lhs, rhs) where l != r {
            if let ln = Int(l), let rn = Int(r) { return ln < rn }
            return l < r
        }
        return lhs.count < rhs.count
    }
}

/// The NDK or one of its compilers could not be found.
public enum AndroidNDKError: HotpatchError {
    case notFound
    case notAnNDK(path: String, variable: String)
    case noPrebuiltToolchain(path: String, expected: String)
    case unsupportedTarget(String)
    case clangMissing(path: String, apiLevel: Int)

    public var code: String {
        switch self {
        case .notFound: "android_ndk_not_found"
        case .notAnNDK: "android_ndk_invalid"
        case .noPrebuiltToolchain: "android_ndk_no_toolchain"
        case .unsupportedTarget: "android_target_unsupported"
        case .clangMissing: "android_clang_missing"
        }
    }

    public var message: String {
        switch self {
        case .notFound: "Android NDK not found (looked at ANDROID_NDK_HOME, ANDROID_NDK_ROOT, $ANDROID_HOME/ndk, $ANDROID_SDK_ROOT/ndk)"
        case let .notAnNDK(path, variable): "\(variable)=\(path) is not an Android NDK (no toolchains/llvm/prebuilt)"
        case let .noPrebuiltToolchain(path, expected): "the NDK has no prebuilt toolchain for this machine in \(path) (expected \(expected))"
        case let .unsupportedTarget(triple): "\(triple) is not an Android target the NDK has a clang for"
        case let .clangMissing(path, apiLevel): "NDK clang for API level \(apiLevel) not found: \(path)"
        }
    }

    public var hint: String? {
        switch self {
        case .notFound, .notAnNDK: "install the NDK (Android Studio → SDK Manager → NDK, or `sdkmanager \"ndk;<version>\"`) and set ANDROID_NDK_HOME to it"
        case .noPrebuiltToolchain: "install the NDK build for this operating system"
        case .unsupportedTarget: "use aarch64-linux-android, armv7-linux-androideabi, i686-linux-android or x86_64-linux-android"
        case .clangMissing: "pick an API level this NDK supports (see toolchains/llvm/prebuilt/*/bin) or install a newer NDK"
        }
    }
}
