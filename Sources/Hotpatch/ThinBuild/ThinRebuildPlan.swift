import Foundation

/// What a patch recompiles and why: the changed crates found from the fat build's dep-info
/// fingerprints, and the rustc command for the binary crate.
public struct ThinRebuildPlan: Codable, Sendable, Equatable {
    public var buildId: BuildID
    public var patchId: Int
    /// The crate being rebuilt (the binary crate of the build).
    public var crateName: String
    public var changes: ChangeSet
    public var objectPlan: ObjBuildPlan
    public var changeDetectionMs: Double
}

/// Compares the tracked sources in `state` with the files on disk and plans the rebuild of the
/// build's binary crate into `patch.objectDirectory`.
///
/// Throws `ThinBuildError.libraryCrateChanged` when a workspace library changed (only the tip
/// crate can be patched for now) and `.nothingChanged` when nothing did, unless `force` is set
/// (then the binary crate is rebuilt regardless, e.g. for benchmarks).
/// `extraRustcArguments` are appended to the replayed command (code model, debuginfo…).
public func planThinRebuild(
    build: FatBuild,
    state: ProjectState,
    patch: PatchDirectory,
    force: Bool = false,
    extraRustcArguments: [String] = []
) throws -> ThinRebuildPlan {
    let clock = ContinuousClock()
    let start = clock.now
    guard !state.sources.isEmpty else { throw ThinBuildError.noTrackedSources(project: build.project) }
    let tip = try build.tipInvocation()
    let changes = ChangeDetection.detect(state.sources)
    let libraries = changes.changed.filter { !$0.isBinary }
    if !libraries.isEmpty { throw ThinBuildError.libraryCrateChanged(libraries) }
    let tipChanged = changes.changed.contains { $0.captureFile == tip.captureFilename }
    if !tipChanged && !force { throw ThinBuildError.nothingChanged }
    let plan = ObjBuildPlan(invocation: tip, outDirectory: patch.objectDirectory, extraArguments: extraRustcArguments)
    return ThinRebuildPlan(
        buildId: build.id,
        patchId: patch.id,
        crateName: tip.crateName,
        changes: changes,
        objectPlan: plan,
        changeDetectionMs: (clock.now - start).milliseconds
    )
}
