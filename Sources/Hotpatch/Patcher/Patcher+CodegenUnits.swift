import Foundation

extension Patcher {
    /// The codegen units to link (``CodegenUnitSelection``) when the replay was incremental and
    /// the build's warm-up (`warmUp`, nil when the patch's flags are not its own) left objects to
    /// compare with; nil links every object.
    func selectCodegenUnits(
        _ plan: ThinRebuildPlan, _ result: ThinBuildResult, build: FatBuild, state: ProjectState, warmUp: URL?
    ) throws -> CodegenUnitSelection? {
        guard let warmUp, plan.steps.contains(where: { $0.incrementalDirectory != nil }) else { return nil }
        var baselines: [String: [String]] = [:]
        for crate in result.crates where !crate.captureFile.isEmpty {
            let capture = try build.rustcInvocation(captureFile: crate.captureFile)
            baselines[crate.captureFile] = ObjBuildPlan(invocation: capture, outDirectory: warmUp).writtenObjects()
        }
        guard !baselines.values.allSatisfy(\.isEmpty) else { return nil }
        let (fatSymbols, _) = try cache.symbolTable(forBinaryAt: build.binary, architecture: nil, digest: keptBinaryDigest(build))
        return try CodegenUnitSelection.select(
            crates: result.crates, baselines: baselines, previouslyLinked: state.linkedUnits(of: build.id),
            executableDefines: { fatSymbols.index(named: $0) != nil })
    }

    /// The extra rustc flags of the build's warm-up and of its patches' normal (not fallback)
    /// compile: the shared link's code model, and limited debug info (line tables, no types or
    /// variables: `-Cdebuginfo=1` in every rustc version), where full debug info of a few codegen
    /// units would be most of the library (1.6 of 1.8 MB for a one-function edit) and a third of
    /// rustc's time. Backtraces through patched code keep their file:line.
    func warmUpArguments(_ build: FatBuild) -> [String] {
        linksShared(build) ? StaticsRelocation.largeCodeModel + ["-Cdebuginfo=1"] : []
    }
}
