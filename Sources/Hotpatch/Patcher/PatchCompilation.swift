import Foundation

/// The result of the compile half of a patch: the thin rebuild's objects, before any process's
/// slide is known. The server links one library per device slide from it.
public struct PatchCompilation: Sendable {
    public var build: FatBuild
    public var patch: PatchDirectory
    public var thinPlan: ThinRebuildPlan
    public var thinResult: ThinBuildResult
    /// The patch objects, in link order: for each rebuilt crate (`thinPlan.rebuiltCrates`) its
    /// object, or the codegen units `units` selected.
    public var objects: [String]
    /// Which codegen units of each incrementally replayed crate are linked; nil when every
    /// object is (one object per crate).
    public var units: CodegenUnitSelection? = nil
    /// The objects' symbols, parsed once for every link and merged into one table: every object's
    /// definitions, and only the undefined names none of them defines.
    public var objectSymbols: SymbolTable
    /// Change detection, rustc, object symbols, relocate.
    public var phases: [PhaseTiming]
    /// The objects made slide-independent: set when one library serves every process.
    public var relocation: RelocatedObjects? = nil
    /// Why the target supports the shared link but this patch links per device.
    public var sharedLinkFallback: String? = nil
    /// Wall time of the compile half. Not the sum of `phases`: a library crate's rustc runs
    /// in the background while its dependents compile, so phases overlap.
    public var wallMs: Double? = nil
}

extension PatchCompilation {
    /// The crates whose rustc ran, in order (a step skipped because its libraries kept their
    /// interface is not among them).
    public var rebuiltCrates: [String] {
        let skipped = Set(thinResult.skipped)
        return thinPlan.steps.filter { !skipped.contains($0.captureFile) }.map(\.crateName)
    }

    /// The per-function diff's view of the compilation: the objects crate by crate.
    public var patchObjects: PatchObjects {
        PatchObjects(
            tipCrate: thinPlan.crateName, tipExtraArguments: thinPlan.objectPlan.extraArguments,
            crates: thinResult.crates, linked: objects, units: units, symbols: objectSymbols)
    }
}

/// A patch library linked for one process, its jump table and the plan that describes it.
public struct LinkedPatch: Sendable {
    public var plan: PatchPlan
    public var jumpTable: JumpTable
}

/// What a compilation needs to be linked again later (another device, a restarted server):
/// the objects stay in the patch directory, so only the plan and paths are stored.
/// ``Patcher/restore(_:)`` turns it back into a ``PatchCompilation``.
public struct StoredCompilation: Codable, Sendable {
    public var buildId: BuildID
    public var patchId: Int
    public var thinPlan: ThinRebuildPlan
    public var thinResult: ThinBuildResult
    public var objects: [String]
    public var units: CodegenUnitSelection?
    public var phases: [PhaseTiming]
    public var relocation: RelocatedObjects?
    public var sharedLinkFallback: String?
    public var wallMs: Double?

    public init(_ compilation: PatchCompilation) {
        buildId = compilation.build.id
        patchId = compilation.patch.id
        thinPlan = compilation.thinPlan
        thinResult = compilation.thinResult
        objects = compilation.objects
        units = compilation.units
        phases = compilation.phases
        relocation = compilation.relocation
        sharedLinkFallback = compilation.sharedLinkFallback
        wallMs = compilation.wallMs
    }
}
