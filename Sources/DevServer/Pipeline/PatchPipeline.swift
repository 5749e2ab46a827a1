import Foundation
import Hotpatch

/// What a `ProjectSession` asks of the hot-patch pipeline: the handful of operations its jobs,
/// late devices and queries drive, and nothing else of `Hotpatch`'s machinery (the patcher, the
/// module cache, cargo, the project state in the store).
///
/// The session keeps the records, the queue and the journal; the pipeline does the work. Every
/// method may block for as long as its tool runs (rustc, cargo, the linker) and is only called
/// from the session's job thread, its link executor, or (for queries) the caller's thread.
/// `LivePipeline` is the real one; tests script a fake, so the session's logic runs in
/// milliseconds without rustc.
protocol PatchPipeline: Sendable {
    /// A compiled patch in the pipeline's own form, handed back to ``link(_:aslrReference:)`` and
    /// ``commit(_:libraryPath:)`` (the live pipeline's keeps the objects' parsed symbols, so a link
    /// right after the compile parses nothing again).
    associatedtype Compilation: PipelineCompilation

    /// The rustc the project builds with (the status report's `toolchain`).
    func toolchain() throws -> RustcVersion

    /// Runs a fat build named `id`, calling `phaseFinished` after each of its phases; throws when
    /// cargo fails or `cancellation` stopped it.
    func fatBuild(
        id: BuildID, cancellation: Cancellation, phaseFinished: @escaping @Sendable (PhaseTiming) -> Void
    ) throws -> FatBuild

    /// The kept binary's size in bytes; nil when it cannot be read.
    func binarySize(of build: FatBuild) -> Int?

    /// Compiles the build's crates the patch way (the warm-up); false when a source changed while
    /// it ran, so the first patch has no unit baseline.
    func warmUp(_ build: FatBuild, cancellation: Cancellation) throws -> Bool

    /// Whether `build` can serve the sources as they are now: made by this pipeline version, its
    /// binary still there, and no tracked source changed since it or its last patch.
    func isUpToDate(_ build: FatBuild) -> Bool

    /// Whether patches can still be made against `build`: made by this pipeline version and its
    /// binary still there (the sources may have changed since).
    func isPatchable(_ build: FatBuild) -> Bool

    /// Whether the tracked sources are as the last build or patch left them; nil when no sources
    /// are tracked yet (nothing to compare).
    func sourcesUnchanged() throws -> Bool?

    /// Takes the next patch number and creates its directory.
    func allocatePatch() throws -> PatchDirectory

    /// The compile half of a patch against `build`, into `patch`.
    func compile(_ build: FatBuild, patch: PatchDirectory, cancellation: Cancellation) throws -> Compilation

    /// Links `compilation` for the process whose anchor runs at `aslrReference` (or, a shared link,
    /// for every process of the build).
    func link(_ compilation: Compilation, aslrReference: UInt64) throws -> LinkedPatch

    /// Makes the compilation the baseline of the next patch (sources, diff baseline, statics).
    func commit(_ compilation: Compilation, libraryPath: String?) throws

    /// A compilation stored in a patch record, ready to be linked again.
    func restore(_ stored: StoredCompilation) throws -> Compilation

    /// The file address of the build's `main` (the ASLR anchor); nil when the binary has none.
    func anchorAddress(of build: FatBuild) throws -> UInt64?

    /// The kept binary's symbol table.
    func symbols(of build: FatBuild) throws -> SymbolTable

    /// Two binaries, or two relocatable objects, compared.
    func diff(oldPath: String, newPath: String) throws -> DiffReport
}

/// What the session records of a compiled patch, whatever form the pipeline keeps it in.
protocol PipelineCompilation: Sendable {
    /// The build the patch was compiled against.
    var buildId: BuildID { get }
    /// What the patch record keeps, to link the patch again later (another device, a restart).
    var stored: StoredCompilation { get }
    var phases: [PhaseTiming] { get }
    /// The crates whose rustc ran, in order.
    var rebuiltCrates: [String] { get }
    /// The sources whose change the patch carries.
    var changedFiles: [String] { get }
}
