import Foundation
import Logging

/// Makes patches for one project: the composition of the pipeline's stages (docs/architecture.md,
/// "Stages"). It holds the configuration — layout, cache, logger, entry patching, shared
/// libraries — and calls the stages in order: the compile half
/// (``compile(build:patch:force:extraRustcArguments:cancellation:)``: thin rebuild plan and run,
/// codegen-unit selection, object symbols, relocate) and the link half (``link(_:aslrReference:)``:
/// stub, link plan and link, jump table, per-function diff, entry patches), then
/// ``commit(_:libraryPath:)``.
///
/// The halves are separate so the CLI runs them in one go and the server can compile once and
/// link per device.
public struct Patcher: Sendable {
    public let layout: ProjectLayout
    public let cache: HotpatchModuleCache
    /// Link one slide-independent library for every process where the target allows it
    /// (x86_64 Linux, aarch64 Linux and Android): statics keep their state and N devices share one link.
    public var sharedLibraries = true
    /// Whether jump tables also carry `entryPatches` (`--entry-patching`): see
    /// ``addingEntryPatches(to:fatSymbols:diff:)``.
    public var entryPatching = false
    /// Apply edits the patchability checks refuse (`--allow-unpatchable`): a changed type layout
    /// or static type, a changed manifest. They are logged and may misbehave; a new thread-local
    /// still can't be linked.
    public var allowUnpatchable = false
    let logger: Logger

    public init(layout: ProjectLayout, cache: HotpatchModuleCache? = nil, logger: Logger = Logger(label: "whisker.patcher")) {
        self.layout = layout
        // `WHISKER_LINK_MODE=per-device` forces the per-device link (to compare, or to work around
        // a loader that refuses text relocations).
        sharedLibraries = ProcessInfo.processInfo.environment["WHISKER_LINK_MODE"] != PatchLinkMode.perDevice.rawValue
        self.cache = cache ?? HotpatchModuleCache(directory: layout.cacheDirectory.path)
        self.logger = logger
    }

    /// Compile, link for `aslrReference`, write `plan.json` and `jump-table.json` into the patch
    /// directory, and record the new source fingerprints so the next patch starts from here.
    public func createPatch(
        aslrReference: UInt64, build: FatBuild? = nil, force: Bool = false, cancellation: Cancellation? = nil
    ) throws -> LinkedPatch {
        let compilation = try compile(build: build, force: force, cancellation: cancellation)
        let linked = try link(compilation, aslrReference: aslrReference)
        try JSONFile.writeAtomically(Data(linked.plan.jsonString().utf8), to: compilation.patch.plan)
        try JSONFile.writeAtomically(Data(linked.jumpTable.json().utf8), to: compilation.patch.jumpTable)
        try commit(compilation, libraryPath: linked.plan.library.path)
        return linked
    }

    /// Records the sources the compilation saw as the new baseline, so the next patch rebuilds
    /// only what changes after it.
    /// `libraryPath`: the shared library linked from it, which exports the statics the patch added.
    ///
    /// All or nothing: the project state, the function baseline and the statics record are
    /// staged first and renamed into place together (``ProjectStore/Batch``), so a full disk
    /// (``FileError/diskFull(path:reason:)``) fails the commit with every record as it was.
    public func commit(_ compilation: PatchCompilation, libraryPath: String? = nil) throws {
        TestHooks.pause(at: .commit)
        let batch = ProjectStore(layout).batch()
        if let relocation = compilation.relocation, !relocation.exportedStatics.isEmpty, let libraryPath {
            try batch.stage(
                PatchStaticsRecord.adding(
                    relocation.exportedStatics, library: libraryPath, layout: layout, buildId: compilation.build.id.rawValue),
                for: .patchStatics)
        }
        let state = try ProjectState.load(layout)
        try batch.stage(
            state.recordingThinRebuild(
                compilation.thinPlan, result: compilation.thinResult, build: compilation.build, units: compilation.units),
            for: .projectState)
        try batch.stage(
            DiffBaseline.recording(compilation.patchObjects, buildId: compilation.build.id, patchId: compilation.patch.id, layout: layout),
            for: .functionBaseline)
        try batch.commit()
    }

    /// Rebuilds a `PatchCompilation` from what was stored: the build record and the objects on disk.
    public func restore(_ stored: StoredCompilation) throws -> PatchCompilation {
        let build = try FatBuild.load(layout, id: stored.buildId)
        let objectSymbols = try SymbolTable.make(mergingObjectsAt: stored.objects)
        return PatchCompilation(
            build: build, patch: layout.patch(stored.patchId), thinPlan: stored.thinPlan, thinResult: stored.thinResult,
            objects: stored.objects, units: stored.units, objectSymbols: objectSymbols, phases: stored.phases,
            relocation: stored.relocation, sharedLinkFallback: stored.sharedLinkFallback, wallMs: stored.wallMs)
    }

    /// The warm-up stage for `build` (``WarmUp/run(build:layout:flags:logger:cancellation:)``)
    /// with the flags this patcher's patches compile with; the first patch's diff baseline, nil
    /// when a source changed while it ran.
    @discardableResult
    public func prepareDiffBaseline(build: FatBuild, cancellation: Cancellation? = nil) throws -> DiffBaseline? {
        let baseline = try WarmUp.run(build: build, layout: layout, flags: warmUpArguments(build), logger: logger, cancellation: cancellation)?.baseline
        // The running build's type layouts, indexed now so that no patch reads the binary's debug
        // info. Best effort: a patch reads it itself when the index is missing.
        do { _ = try TypeLayoutCheck.running(build, layout: layout) } catch {
            logger.warning("warm-up: type layouts not indexed: \(error)")
        }
        return baseline
    }

    /// The kept fat binary's sha256 (``FatBuild/keptBinaryDigest()``).
    public func keptBinaryDigest(_ build: FatBuild) -> String? {
        build.keptBinaryDigest()
    }

    /// Whether patches of `build` get the shared link (and so the large code model).
    func linksShared(_ build: FatBuild) -> Bool {
        sharedLibraries && StaticsRelocation.isSupported(target: build.target)
    }

    /// The extra rustc flags of `build`'s warm-up and of its patches' normal (not fallback) compile.
    func warmUpArguments(_ build: FatBuild) -> [String] {
        WarmUp.arguments(sharedLink: linksShared(build))
    }

    /// The kept fat binary's symbols, through the cache.
    func fatSymbols(_ build: FatBuild) throws -> SymbolTable {
        try CachedSymbolTable.make(fatBinaryOf: build, cache: cache).table
    }
}
