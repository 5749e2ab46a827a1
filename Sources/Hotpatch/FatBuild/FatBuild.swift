import Foundation

/// The record of one fat build (`build.json`; also what `whisker-dev build --json` prints): where
/// the kept binary is, what was captured, and how long each phase took.
public struct FatBuild: Codable, Sendable, Equatable {
    public var id: BuildID
    /// The project directory (symlinks resolved).
    public var project: String
    /// The kept copy of the fat binary (`builds/<id>/bin/<name>`): what runs, and what patches link against.
    public var binary: String
    /// Where cargo wrote it (overwritten by the next build).
    public var originalBinary: String
    /// Symbols in the binary's symbol table; nil when the build was run without a symbol reader.
    public var symbols: Int?
    public var durationMs: Double
    public var phases: [PhaseTiming]
    /// Every crate cargo reported for this build (dependencies included).
    public var crates: [BuiltCrate]
    /// The triple the binary is for.
    public var target: String
    public var host: String
    /// `release` or `debug` (cargo's profile directory).
    public var profile: String
    public var bin: String?
    public var package: String?
    /// The binary crate's rustc capture (`captures/rustc/<crate>-bin.json`).
    public var tipCapture: String
    /// The linker capture of the link that produced the binary.
    public var linkerCapture: String
    public var linker: ResolvedLinker
    public var buildDirectory: String
    public var captureDirectory: String
    /// cargo's `--target-dir` (see `ProjectLayout.targetDirectory`).
    public var targetDirectory: String
    public var logPath: String
    /// ISO 8601, UTC.
    public var startedAt: String
    /// The cargo command that ran (the last one, if a recapture was needed).
    public var cargoCommand: [String]
    /// Times cargo had to be re-run to capture crates it considered up to date (normally 0).
    public var recaptures: Int
    /// How the build was made (``FatBuild/currentPipelineVersion``); nil for builds from before
    /// versions were recorded. A server starting up reuses a kept build only of the current one.
    public var pipelineVersion: Int? = nil

    /// Bumped when a fat build's contents change in a way patches rely on. 2: every rlib linked
    /// whole with `--no-gc-sections`, and a per-function diff baseline compiled after the build.
    public static let currentPipelineVersion = 2
}

/// A unit cargo built (or found up to date) during a fat build.
public struct BuiltCrate: Codable, Sendable, Equatable {
    /// The cargo target's name (`my-app`).
    public var name: String
    /// rustc's crate name (`my_app`).
    public var crateName: String
    public var packageId: String
    /// cargo's target kinds (`bin`, `lib`, `custom-build`…).
    public var kind: [String]
    public var crateTypes: [String]
    /// cargo reused the artefact without running rustc.
    public var fresh: Bool
    /// The capture file name in `captures/rustc/` when the shim recorded this crate (or, for a
    /// path dependency outside the workspace that cargo reused, an earlier build did).
    public var capture: String?
    /// The files cargo reported for it (rlib, rmeta, executable…).
    public var filenames: [String]? = nil

    /// A package of the local file system (a workspace member or a path dependency), not a
    /// registry or git crate. Cargo 1.77+ spells the id `path+file:///dir#name@1.0`; older cargo
    /// (Debian's 1.65, a device's toolchain) `name 1.0 (path+file:///dir)`.
    public var isPathPackage: Bool { packageId.hasPrefix("path+file://") || packageId.contains(" (path+file://") }

    /// The package's directory, for a path package (`/work/app` of `path+file:///work/app#0.1.0`
    /// or of `app 0.1.0 (path+file:///work/app)`).
    public var packageDirectory: String? {
        guard let start = packageId.range(of: "path+file://") else { return nil }
        let rest = packageId[start.upperBound...]
        let directory = rest.prefix { $0 != "#" && $0 != ")" && $0 != "?" }
        return directory.isEmpty ? nil : String(directory).removingPercentEncoding ?? String(directory)
    }

    /// What `cargo clean -p` takes for this package: the id itself, or for the older spelling
    /// (not a package id spec) the package's name, which is what cargo 1.65 cleans by anyway.
    public var packageSpec: String {
        guard packageId.hasSuffix(")"), let name = packageId.split(separator: " ").first else { return packageId }
        return String(name)
    }
}

extension FatBuild {
    /// Loads `builds/<id>/build.json`.
    public static func load(_ layout: ProjectLayout, id: BuildID) throws -> FatBuild {
        try JSONFile.read(FatBuild.self, from: layout.build(id).buildRecord)
    }

    /// The project's last successful build (the project state's `lastBuildId`).
    public static func latest(_ layout: ProjectLayout) throws -> FatBuild {
        guard let id = try ProjectState.load(layout).lastBuildId else {
            throw ThinBuildError.noBuild(project: layout.projectDirectory.path)
        }
        return try load(layout, id: id)
    }

    /// The binary crate's captured rustc call.
    public func tipInvocation() throws -> CapturedRustcInvocation {
        try JSONFile.read(CapturedRustcInvocation.self, from: URL(fileURLWithPath: tipCapture))
    }

    /// The captured link that produced the binary.
    public func linkerInvocation() throws -> CapturedLinkerInvocation {
        try JSONFile.read(CapturedLinkerInvocation.self, from: URL(fileURLWithPath: linkerCapture))
    }

    /// A crate's captured rustc call by capture file name (`mylib-lib.json`).
    public func rustcInvocation(captureFile: String) throws -> CapturedRustcInvocation {
        let url = URL(fileURLWithPath: captureDirectory).appendingPathComponent("rustc").appendingPathComponent(captureFile)
        return try JSONFile.read(CapturedRustcInvocation.self, from: url)
    }

    /// The kept fat binary's sha256, memoised beside it: the copy is private to its build and never
    /// rewritten, and hashing 7 MB on every patch costs more than everything else but rustc and
    /// the link.
    public func keptBinaryDigest() -> String? {
        let memo = binary + ".sha256"
        if let text = try? String(contentsOfFile: memo, encoding: .utf8), text.count == 64 { return text }
        guard let digest = try? HotpatchModuleCache.sha256(ofFileAt: binary) else { return nil }
        try? JSONFile.writeAtomically(Data(digest.utf8), to: URL(fileURLWithPath: memo))
        return digest
    }
}
