import Foundation
import Hotpatch
import Logging

/// The real pipeline: cargo through the capture shims, the patcher, the module cache and the
/// project state in the store, exactly as `whisker-dev serve` runs them.
struct LivePipeline: PatchPipeline {
    let configuration: SessionConfiguration
    let layout: ProjectLayout
    let patcher: Patcher
    let cache: HotpatchModuleCache

    init(configuration: SessionConfiguration, layout: ProjectLayout, logger: Logger) {
        self.configuration = configuration
        self.layout = layout
        cache = HotpatchModuleCache(directory: configuration.cacheDirectory.path)
        var patcher = Patcher(layout: layout, cache: cache, logger: logger)
        patcher.entryPatching = configuration.entryPatching
        patcher.allowUnpatchable = configuration.allowUnpatchable
        self.patcher = patcher
    }

    func toolchain() throws -> RustcVersion {
        try Toolchain.rustcVersion(environment: configuration.environment, directory: configuration.project)
    }

    func fatBuild(
        id: BuildID, cancellation: Cancellation, phaseFinished: @escaping @Sendable (PhaseTiming) -> Void
    ) throws -> FatBuild {
        let cache = self.cache
        return try FatBuild.run(
            project: configuration.project, bin: configuration.bin, package: configuration.package,
            release: configuration.release, target: configuration.target, cacheDir: configuration.cacheDirectory,
            environment: configuration.environment,
            symbolCount: { try CachedSymbolTable.make(forBinaryAt: $0.path, architecture: nil, cache: cache).table.count },
            cancellation: cancellation, id: id,
            progress: { event in
                guard case .phaseFinished(let timing) = event else { return }
                phaseFinished(timing)
            })
    }

    func binarySize(of build: FatBuild) -> Int? {
        // The size is informational (`binarySize`): a binary that cannot be stat'ed has none.
        (try? FileManager.default.attributesOfItem(atPath: build.binary)[.size] as? Int) ?? nil
    }

    func warmUp(_ build: FatBuild, cancellation: Cancellation) throws -> Bool {
        try patcher.prepareDiffBaseline(build: build, cancellation: cancellation) != nil
    }

    func isUpToDate(_ build: FatBuild) -> Bool {
        // Sources that cannot be compared count as changed: the answer only decides to build again.
        guard isPatchable(build), let unchanged = try? sourcesUnchanged() else { return false }
        return unchanged
    }

    func isPatchable(_ build: FatBuild) -> Bool {
        // A build an older whisker-dev made may lack what patches now rely on (whole rlibs linked).
        build.pipelineVersion == FatBuild.currentPipelineVersion && FileManager.default.isExecutableFile(atPath: build.binary)
    }

    func sourcesUnchanged() throws -> Bool? {
        let state = try ProjectState.load(layout)
        guard !state.sources.isEmpty else { return nil }
        return ChangeDetection.detect(state.sources).isEmpty
    }

    func allocatePatch() throws -> PatchDirectory {
        try layout.allocatePatch()
    }

    func compile(_ build: FatBuild, patch: PatchDirectory, cancellation: Cancellation) throws -> PatchCompilation {
        // Coloured diagnostics: the status page renders rustc's ANSI colours.
        try patcher.compile(build: build, patch: patch, extraRustcArguments: ["--color=always"], cancellation: cancellation)
    }

    func link(_ compilation: PatchCompilation, aslrReference: UInt64) throws -> LinkedPatch {
        try patcher.link(compilation, aslrReference: aslrReference)
    }

    func commit(_ compilation: PatchCompilation, libraryPath: String?) throws {
        try patcher.commit(compilation, libraryPath: libraryPath)
    }

    func restore(_ stored: StoredCompilation) throws -> PatchCompilation {
        try patcher.restore(stored)
    }

    func anchorAddress(of build: FatBuild) throws -> UInt64? {
        // The patcher memoises the kept binary's digest beside it.
        try CachedSymbolTable.make(forBinaryAt: build.binary, architecture: nil, digest: patcher.keptBinaryDigest(build), cache: cache)
            .table.lookup("main")?.address
    }

    func symbols(of build: FatBuild) throws -> SymbolTable {
        try CachedSymbolTable.make(forBinaryAt: build.binary, architecture: nil, cache: cache).table
    }

    func diff(oldPath: String, newPath: String) throws -> DiffReport {
        try Self.diff(oldPath: oldPath, newPath: newPath)
    }

    /// The diff itself, needing nothing of a pipeline (the tests' fake runs the same one).
    static func diff(oldPath: String, newPath: String) throws -> DiffReport {
        // Objects are compared function by function (masked relocations); linked binaries by name.
        if FunctionDiff.isRelocatableELF(oldPath), FunctionDiff.isRelocatableELF(newPath) {
            return try DiffReport.make(oldObjects: [oldPath], newObjects: [newPath])
        }
        return try DiffReport.make(oldBinary: oldPath, newBinary: newPath)
    }
}

extension PatchCompilation: PipelineCompilation {
    var buildId: BuildID { build.id }
    var stored: StoredCompilation { StoredCompilation(self) }
    var changedFiles: [String] { thinPlan.changes.changed.flatMap(\.changedFiles) }
}
