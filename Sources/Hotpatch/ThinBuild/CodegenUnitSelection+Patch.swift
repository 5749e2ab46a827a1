import Foundation

extension CodegenUnitSelection {
    /// The codegen-unit selection stage of a patch (phase `selectUnits`): which units of `result`
    /// to link when `plan` replayed incrementally and the build's warm-up (`warmUp`, nil when the
    /// patch's flags are not its own: ``WarmUp/directory(of:layout:flags:)``) left objects to
    /// compare with; nil links every object. `previouslyLinked`: capture file → the units earlier
    /// patches of the build linked (``ProjectState/linkedUnits(of:)``). The fat binary's symbols
    /// come from `cache`, read only once a selection is to be made.
    public static func make(
        plan: ThinRebuildPlan, result: ThinBuildResult, build: FatBuild, previouslyLinked: [String: [String]],
        warmUp: URL?, cache: HotpatchModuleCache
    ) throws -> CodegenUnitSelection? {
        guard let warmUp, plan.steps.contains(where: { $0.incrementalDirectory != nil }) else { return nil }
        var baselines: [String: [String]] = [:]
        for crate in result.crates where !crate.captureFile.isEmpty {
            let capture = try build.rustcInvocation(captureFile: crate.captureFile)
            baselines[crate.captureFile] = ObjBuildPlan(invocation: capture, outDirectory: warmUp).writtenObjects()
        }
        guard !baselines.values.allSatisfy(\.isEmpty) else { return nil }
        let fatSymbols = try CachedSymbolTable.make(fatBinaryOf: build, cache: cache).table
        return try make(
            crates: result.crates, baselines: baselines, previouslyLinked: previouslyLinked,
            executableDefines: { fatSymbols.index(named: $0) != nil })
    }
}
