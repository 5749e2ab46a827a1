import Crypto
import Foundation

/// Where a project's builds, patches and state live inside the cache directory
/// (docs/architecture.md, "Directory layout on disk"). Pure path arithmetic plus `create…` helpers;
/// nothing here runs a tool.
public struct ProjectLayout: Sendable, Equatable {
    /// The cache root: `<cache>`.
    public let cacheDirectory: URL
    /// The project directory, symlinks resolved (the key is derived from this path).
    public let projectDirectory: URL
    /// `<dir name>-<first 12 hex of sha256(realpath)>`.
    public let key: String

    public init(project: URL, cacheDirectory: URL) {
        let real = project.standardizedFileURL.resolvingSymlinksInPath()
        self.projectDirectory = real
        self.cacheDirectory = cacheDirectory.standardizedFileURL
        let hex = SHA256.hash(data: Data(real.path.utf8)).lowercaseHex
        self.key = "\(real.lastPathComponent)-\(hex.prefix(12))"
    }

    /// `--cache-dir` > `WHISKER_CACHE_DIR` > `$XDG_CACHE_HOME/whisker-hotpatch` > `~/.cache/whisker-hotpatch`.
    public static func resolveCacheDirectory(explicit: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let explicit { return explicit.standardizedFileURL }
        if let dir = environment["WHISKER_CACHE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir).standardizedFileURL }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("whisker-hotpatch")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/whisker-hotpatch")
    }

    /// `<cache>/symbols`, shared by every project (parsed symbol tables keyed by binary hash).
    public var symbolsDirectory: URL { cacheDirectory.appendingPathComponent("symbols") }
    /// `<cache>/projects/<key>`.
    public var root: URL { cacheDirectory.appendingPathComponent("projects").appendingPathComponent(key) }
    public var stateFile: URL { ProjectStore(self).file(.projectState) }
    public var buildsDirectory: URL { root.appendingPathComponent("builds") }
    public var patchesDirectory: URL { root.appendingPathComponent("patches") }
    /// cargo's `--target-dir` for fat builds: kept apart from the project's own `target/` because the
    /// capture build uses another linker, which changes every crate's fingerprint — sharing one
    /// directory would make the user's `cargo build` and ours rebuild everything in turn.
    public var targetDirectory: URL { root.appendingPathComponent("target") }

    public func build(_ id: BuildID) -> BuildDirectory {
        BuildDirectory(root: buildsDirectory.appendingPathComponent(id.rawValue))
    }

    public func patch(_ id: Int) -> PatchDirectory {
        PatchDirectory(id: id, root: patchesDirectory.appendingPathComponent(String(id)))
    }
}

/// `builds/<build id>/` and the files in it.
public struct BuildDirectory: Sendable, Equatable {
    public let root: URL
    public var buildRecord: URL { root.appendingPathComponent("build.json") }
    public var captures: URL { root.appendingPathComponent("captures") }
    public var rustcCaptures: URL { captures.appendingPathComponent("rustc") }
    public var linkerCaptures: URL { captures.appendingPathComponent("linker") }
    public var binDirectory: URL { root.appendingPathComponent("bin") }
    public var log: URL { root.appendingPathComponent("build.log") }
    /// Each replayed crate's own incremental state for this build's patches (never cargo's); a new
    /// fat build starts from nothing.
    public var thinIncremental: URL { root.appendingPathComponent("thin-incremental") }
    /// The warm-up compile of every tracked crate right after the fat build (the sources as the fat
    /// build saw them, compiled the patch way): the first patch's diff baseline and the codegen
    /// units a patch compares its own against.
    public var diffBaseline: URL { root.appendingPathComponent("diff-baseline") }
    /// Per-build copy of the rustc shim's path (a symlink); see `FatBuild.run` for why.
    public var shimDirectory: URL { root.appendingPathComponent("shim") }

    public func create() throws {
        for dir in [rustcCaptures, linkerCaptures, binDirectory, shimDirectory] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
    }
}

/// `patches/<patch id>/` and the files in it.
public struct PatchDirectory: Sendable, Equatable {
    public let id: Int
    public let root: URL
    /// rustc's fresh `--out-dir` for the thin rebuild.
    public var objectDirectory: URL { root.appendingPathComponent("obj") }
    public var stubObject: URL { root.appendingPathComponent("stub.o") }
    public var plan: URL { root.appendingPathComponent("plan.json") }
    public var jumpTable: URL { root.appendingPathComponent("jump-table.json") }
    public func library(named filename: String) -> URL { root.appendingPathComponent(filename) }

    /// A patch library's file name, unique per patch (`dlopen` caches libraries by path, so a name
    /// is never reused): `libwhisker-patch-<patch id>-<6 hex>.<ext>`; `ext` is `so` (Linux,
    /// Android) or `dylib` (macOS).
    public static func libraryFilename(patchId: Int, fileExtension: String = "so") -> String {
        "libwhisker-patch-\(patchId)-\(randomHex(count: 6)).\(fileExtension)"
    }

    public func create() throws {
        try FileManager.default.createDirectory(at: objectDirectory, withIntermediateDirectories: true)
    }
}
