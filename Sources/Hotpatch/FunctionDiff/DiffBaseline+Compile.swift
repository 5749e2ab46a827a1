import Foundation

extension Patcher {
    /// Compiles the binary crate's sources as the fat build saw them, the way a patch will be
    /// compiled (same replayed command, same code model), into `<build>/diff-baseline/`, and
    /// records the object as the first patch's per-function diff baseline.
    ///
    /// Without it the first patch of a shared-link build has nothing comparable: the fat build's
    /// own codegen units use the small code model, so every function would differ. Run right
    /// after the fat build (the server does it inside the build job, `whisker-dev build` before it
    /// returns); returns nil, removing the object, when a source changed while rustc ran (the
    /// object would then be the edit, not the baseline).
    @discardableResult
    public func prepareDiffBaseline(build: FatBuild, cancellation: Cancellation? = nil) throws -> DiffBaseline? {
        let state = try ProjectState.load(layout)
        let tip = try build.tipInvocation()
        let directory = layout.build(build.id).root.appendingPathComponent("diff-baseline")
        let flags = linksShared(build) ? StaticsRelocation.largeCodeModel : []
        let plan = ObjBuildPlan(invocation: tip, outDirectory: directory, extraArguments: flags)
        try makeFreshDirectory(directory)
        let (result, _) = try runObjBuild(plan, cancellation: cancellation)
        let edited = ChangeDetection.detect(state.sources).changed.contains { $0.captureFile == tip.captureFilename }
        guard !edited else {
            try? FileManager.default.removeItem(at: directory)
            return nil
        }
        let record = BaselineRecord(
            buildId: build.id, patches: [.init(patchId: 0, crates: [tip.crateName: [plan.objectPath.path]])])
        try JSONFile.write(record, to: BaselineRecord.file(layout))
        logger.info("diff baseline for \(tip.crateName) compiled in \(Int(result.duration.milliseconds)) ms")
        return DiffBaseline(
            source: .fatBuildObjects, objects: [plan.objectPath.path],
            description: DiffBaseline.compiledBaselineDescription(build: build.id))
    }
}

extension DiffBaseline {
    static func compiledBaselineDescription(build: BuildID) -> String {
        "fat build \(build.rawValue) (its sources compiled like a patch)"
    }
}
