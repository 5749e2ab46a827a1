import Foundation

extension Patcher {
    /// The warm-up: compiles every workspace crate the binary uses, with the sources as the fat build
    /// saw them, the way a patch will compile it (same replayed command, same code model, the
    /// crate's own incremental directory under `<build>/thin-incremental/`), into
    /// `<build>/diff-baseline/`.
    ///
    /// It serves three purposes: the first patch's per-function diff baseline (the fat build's own
    /// codegen units use the small code model, so every function would differ); the codegen units
    /// a patch compares its own with to link only what changed (``CodegenUnitSelection``); and
    /// the incremental state that lets the first patch re-codegen only the units the edit
    /// touched. Run right after the fat build (the server does it inside the build job,
    /// `whisker-dev build` before it returns); returns nil, removing the objects, when a source
    /// changed while rustc ran (the objects would then be the edit, not the baseline).
    @discardableResult
    public func prepareDiffBaseline(build: FatBuild, cancellation: Cancellation? = nil) throws -> DiffBaseline? {
        let state = try ProjectState.load(layout)
        let tip = try build.tipInvocation()
        let buildDirectory = layout.build(build.id)
        let directory = buildDirectory.diffBaseline
        let flags = warmUpArguments(build)
        forgetUnitSymbols(under: directory.path)
        try makeFreshDirectory(directory)

        var captures = [tip]
        for crate in state.sources where crate.captureFile != tip.captureFilename {
            if let capture = try? build.rustcInvocation(captureFile: crate.captureFile) { captures.append(capture) }
        }
        let graph = CrateGraph(captures)
        let used = graph.reachable(from: tip.captureFilename)
        var order = graph.rebuildOrder(changed: used, within: used).filter { $0 != tip.captureFilename }
        order.append(tip.captureFilename)

        // rustc writes where patches will (its incremental state depends on the out dir); the
        // warm-up keeps hard links.
        let stableOutput = stableOutputDirectory(incrementalRoot: buildDirectory.thinIncremental)
        try makeFreshDirectory(stableOutput)
        let clock = ContinuousClock()
        let start = clock.now
        var crates: [String: [String]] = [:]
        var warmed: [String] = []
        for file in order {
            guard let capture = graph.captures[file] else { continue }
            let incremental = incrementalDirectory(root: buildDirectory.thinIncremental, invocation: capture, extraArguments: flags)
            // Only the tip has a baseline without incremental state: a library's non-incremental
            // replay writes an rlib nothing compares with. Path dependencies outside the workspace
            // (the runtime among them) are rarely edited: the first patch of one links all of it.
            guard incremental != nil || file == tip.captureFilename else { continue }
            guard file == tip.captureFilename || capture.isWorkspaceMember else { continue }
            let plan = ObjBuildPlan(
                invocation: capture, outDirectory: incremental == nil ? directory : stableOutput, extraArguments: flags,
                emitsLibrary: file != tip.captureFilename, incrementalDirectory: incremental)
            let outcome = try runStep(
                plan, phaseName: "warm-up \(capture.crateName)", delivery: incremental == nil ? nil : directory, cancellation: cancellation)
            crates[capture.crateName, default: []] += outcome.crate.objectPaths
            warmed.append(file)
        }
        let edited = ChangeDetection.detect(state.sources).changed.contains { warmed.contains($0.captureFile) }
        guard !edited else {
            try? FileManager.default.removeItem(at: directory)
            return nil
        }
        try JSONFile.write(flags, to: directory.appendingPathComponent(Self.warmUpFlagsFile))
        let record = BaselineRecord(buildId: build.id, patches: [.init(patchId: 0, crates: crates)])
        try ProjectStore(layout).write(record, for: .functionBaseline)
        // Read each unit once now, while the user starts the app: the first patch then pays only
        // for the units its edit changed (a long-running server keeps them).
        for object in crates.values.joined() {
            do { _ = try unitSymbols(object, cached: true) } catch { logger.warning("warm-up: \(error)") }
        }
        let units = crates.values.reduce(0) { $0 + $1.count }
        logger.info("warm-up: \(warmed.count) crate\(warmed.count == 1 ? "" : "s") compiled the patch way (\(units) codegen units) in \(Int((clock.now - start).milliseconds)) ms")
        let tipObjects = crates[tip.crateName] ?? []
        return DiffBaseline(
            source: .fatBuildObjects, objects: tipObjects,
            description: DiffBaseline.compiledBaselineDescription(build: build.id))
    }
}

extension Patcher {
    /// The warm-up's flags, beside its objects: a warm-up made with other flags (an earlier
    /// version's) has other code in every unit, so it is no baseline for codegen units.
    static let warmUpFlagsFile = "warm-up-flags.json"

    /// The build's warm-up directory if it was compiled with the flags patches use now.
    func matchingWarmUp(_ build: FatBuild) -> URL? {
        let directory = layout.build(build.id).diffBaseline
        guard let flags = try? JSONFile.read([String].self, from: directory.appendingPathComponent(Self.warmUpFlagsFile)),
              flags == warmUpArguments(build) else { return nil }
        return directory
    }
}

extension DiffBaseline {
    static func compiledBaselineDescription(build: BuildID) -> String {
        "fat build \(build.rawValue) (its sources compiled like a patch)"
    }
}
