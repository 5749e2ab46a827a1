import Foundation
#if canImport(Darwin)
import Darwin
#endif

/// Where the two shim executables are: next to the running `whisker-dev` (they are built and
/// installed together), or in `$WHISKER_SHIM_DIR` when set (tests, unusual installs).
public struct ShimPaths: Codable, Sendable, Equatable {
    public static let rustcShimName = "whisker-rustc-shim"
    public static let linkerShimName = "whisker-linker-shim"

    public var rustcShim: URL
    public var linkerShim: URL

    public init(directory: URL) {
        rustcShim = directory.appendingPathComponent(Self.rustcShimName)
        linkerShim = directory.appendingPathComponent(Self.linkerShimName)
    }

    /// Finds both shims; throws naming the directory searched and how to fix it.
    public static func make(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ShimPaths {
        let directory: URL
        if let override = environment[ShimEnvironment.shimDirectory], !override.isEmpty {
            directory = URL(fileURLWithPath: override)
        } else if let executable = currentExecutable() {
            directory = executable.deletingLastPathComponent()
        } else {
            throw ShimPathsError.executableUnknown
        }
        let paths = ShimPaths(directory: directory)
        for shim in [paths.rustcShim, paths.linkerShim] where !FileManager.default.isExecutableFile(atPath: shim.path) {
            throw ShimPathsError.missing(path: shim.path)
        }
        return paths
    }

    /// The running executable, symlinks resolved (so a `whisker-dev` symlinked into ~/bin still
    /// finds the shims beside the real file).
    public static func currentExecutable() -> URL? {
        #if os(Linux) || os(Android)
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return URL(fileURLWithPath: path)
        #elseif canImport(Darwin)
        var size: UInt32 = 0
        _ = _NSGetExecutablePath(nil, &size)
        var buffer = [CChar](repeating: 0, count: Int(size) + 1)
        guard _NSGetExecutablePath(&buffer, &size) == 0 else { return nil }
        return URL(fileURLWithPath: String(cString: buffer)).resolvingSymlinksInPath()
        #else
        return nil
        #endif
    }
}

/// The shim executables could not be found.
public enum ShimPathsError: HotpatchError {
    case missing(path: String)
    case executableUnknown

    public var code: String { "shim_missing" }

    public var message: String {
        switch self {
        case let .missing(path): "capture shim not found: \(path)"
        case .executableUnknown: "cannot tell where the running whisker-dev executable is, so cannot find the capture shims"
        }
    }

    public var hint: String? {
        "build them with `swift build` (products whisker-rustc-shim and whisker-linker-shim) and keep them next to whisker-dev, or set \(ShimEnvironment.shimDirectory) to their directory"
    }
}
