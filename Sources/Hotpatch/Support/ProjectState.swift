import Foundation

/// The project store's `project-state` record (once `state.json`): what the next patch is compared against. Written by `FatBuild.run`
/// (new build id, fresh source fingerprints) and by the patcher (next patch id, fingerprints of
/// what a patch rebuilt).
public struct ProjectState: Codable, Sendable, Equatable {
    /// The project directory this state belongs to (symlinks resolved).
    public var project: String
    public var lastBuildId: BuildID?
    /// 0 before the first patch; patch ids count up per project and are never reused.
    public var lastPatchId: Int
    /// Source files of every captured workspace crate with their fingerprints at build/patch time.
    public var sources: [TrackedCrate]
    /// The last build's manifests, build scripts, lock file and cargo config (``BuildInputs``):
    /// a change to one makes every later patch of that build `not_patchable`.
    public var buildInputs: BuildInputs?
    /// Workspace libraries a committed patch of a build rebuilt. The running program has their
    /// patched code, so every later patch of that build rebuilds them again: a dependent compiled
    /// against the fat build's rlib would call, and inline, the old code.
    public var patchedLibraries: PatchedLibraries?
    /// Codegen units committed patches of a build linked, per crate capture file: a later patch
    /// of the build links them again (``CodegenUnitSelection``, rule 2).
    public var linkedUnits: LinkedUnits?

    /// Each crate's latest compile in a build, for one set of code flags: a patch links an
    /// unchanged library from it instead of replaying it.
    public var latestCompiles: LatestCompiles?

    /// The latest compile of each crate patched in one build.
    public struct LatestCompiles: Codable, Sendable, Equatable {
        public var buildId: BuildID
        /// The code flags they were compiled with (``codeArguments(_:)``).
        public var arguments: [String]
        /// Capture file → compile.
        public var crates: [String: CrateBuildResult]
    }

    /// The codegen units linked so far in one build.
    public struct LinkedUnits: Codable, Sendable, Equatable {
        public var buildId: BuildID
        /// Capture file → unit names.
        public var units: [String: [String]]

        public init(buildId: BuildID, units: [String: [String]]) {
            self.buildId = buildId
            self.units = units
        }
    }

    /// Capture files of the libraries patched in one build.
    public struct PatchedLibraries: Codable, Sendable, Equatable {
        public var buildId: BuildID
        public var captureFiles: [String]

        public init(buildId: BuildID, captureFiles: [String]) {
            self.buildId = buildId
            self.captureFiles = captureFiles
        }
    }

    public init(project: String, lastBuildId: BuildID? = nil, lastPatchId: Int = 0, sources: [TrackedCrate] = [], patchedLibraries: PatchedLibraries? = nil) {
        self.project = project
        self.lastBuildId = lastBuildId
        self.lastPatchId = lastPatchId
        self.sources = sources
        self.patchedLibraries = patchedLibraries
    }

    /// The codegen units linked in `build` so far, by capture file (none after a new fat build).
    public func linkedUnits(of build: BuildID) -> [String: [String]] {
        linkedUnits.flatMap { $0.buildId == build ? $0.units : nil } ?? [:]
    }

    /// The latest compiles in `build` made with `arguments` (none after a new fat build).
    public func latestCompiles(of build: BuildID, arguments: [String]) -> [String: CrateBuildResult] {
        guard let latestCompiles, latestCompiles.buildId == build, latestCompiles.arguments == arguments else { return [:] }
        return latestCompiles.crates
    }

    /// The libraries patched in `build` so far (none after a new fat build).
    public func patchedLibraries(of build: BuildID) -> [String] {
        patchedLibraries.flatMap { $0.buildId == build ? $0.captureFiles : nil } ?? []
    }

    /// The project's state, or an empty one when there is none yet.
    public static func load(_ layout: ProjectLayout) throws -> ProjectState {
        try ProjectStore(layout).read(.projectState) ?? ProjectState(project: layout.projectDirectory.path)
    }

    public func save(_ layout: ProjectLayout) throws {
        try ProjectStore(layout).write(self, for: .projectState)
    }
}

extension ProjectLayout {
    /// Takes the next patch id (persisting it in the project state so it is never handed out twice) and
    /// creates that patch's directory. Also looks at existing patch directories, so a lost or
    /// older project state can't make a new patch overwrite an old one.
    /// Not safe against two processes allocating at the same instant; the server runs one job per project.
    public func allocatePatch() throws -> PatchDirectory {
        var state = try ProjectState.load(self)
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: patchesDirectory.path)) ?? []
        let highestOnDisk = existing.compactMap { Int($0) }.max() ?? 0
        let id = max(state.lastPatchId, highestOnDisk) + 1
        state.lastPatchId = id
        try state.save(self)
        let directory = patch(id)
        do {
            try directory.create()
        } catch {
            throw FileError.cannotWrite(path: directory.root.path, reason: "\(error)")
        }
        return directory
    }
}
