import Foundation
import Logging

/// The warm-up: every workspace crate the binary uses compiled, with the sources as the fat build
/// saw them, the way a patch will compile it (same replayed command, same code model, the
/// crate's own incremental directory under `<build>/thin-incremental/`), into
/// `<build>/diff-baseline/`.
///
/// It serves three purposes: the first patch's per-function diff baseline (the fat build's own
/// codegen units use the small code model, so every function would differ); the codegen units
/// a patch compares its own with to link only what changed (``CodegenUnitSelection``); and
/// the incremental state that lets the first patch re-codegen only the units the edit
/// touched. Run right after the fat build (the server does it inside the build job,
/// `whisker-dev build` before it returns).
public struct WarmUp: Sendable {
    /// `<build>/diff-baseline/`.
    public var directory: URL
    /// Crate name → every object compiled for it (one per codegen unit).
    public var objects: [String: [String]]
    /// The tip crate's objects as the first patch's per-function diff baseline.
    public var baseline: DiffBaseline

    public init(directory: URL, objects: [String: [String]], baseline: DiffBaseline) {
        self.directory = directory
        self.objects = objects
        self.baseline = baseline
    }
}

extension WarmUp {
    /// Runs the warm-up of `build` with the extra rustc `flags` its patches use
    /// (``arguments(sharedLink:)``): phases `warm-up <crate>`, one log line at the end. Records
    /// the objects as patch 0 of the project store's `function-baseline`. Returns nil, removing
    /// the objects, when a source changed while rustc ran (the objects would then be the edit,
    /// not the baseline).
    public static func run(
        build: FatBuild, layout: ProjectLayout, flags: [String], logger: Logger, cancellation: Cancellation? = nil
    ) throws -> WarmUp? {
        let state = try ProjectState.load(layout)
        let tip = try build.tipInvocation()
        let buildDirectory = layout.build(build.id)
        let directory = buildDirectory.diffBaseline
        UnitSymbols.forget(under: directory.path)
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
        let stableOutput = ThinRebuildPlan.stableOutputDirectory(incrementalRoot: buildDirectory.thinIncremental)
        try makeFreshDirectory(stableOutput)
        let clock = ContinuousClock()
        let start = clock.now
        var crates: [String: [String]] = [:]
        var warmed: [String] = []
        for file in order {
            guard let capture = graph.captures[file] else { continue }
            let incremental = ObjBuildPlan.incrementalDirectory(
                root: buildDirectory.thinIncremental, invocation: capture, extraArguments: flags)
            // Only the tip has a baseline without incremental state: a library's non-incremental
            // replay writes an rlib nothing compares with. Path dependencies outside the workspace
            // (the runtime among them) are rarely edited: the first patch of one links all of it.
            guard incremental != nil || file == tip.captureFilename else { continue }
            guard file == tip.captureFilename || capture.isWorkspaceMember else { continue }
            let plan = ObjBuildPlan(
                invocation: capture, outDirectory: incremental == nil ? directory : stableOutput, extraArguments: flags,
                emitsLibrary: file != tip.captureFilename, incrementalDirectory: incremental)
            let outcome = try StepOutcome.run(
                plan, phaseName: "warm-up \(capture.crateName)", delivery: incremental == nil ? nil : directory, cancellation: cancellation)
            crates[capture.crateName, default: []] += outcome.crate.objectPaths
            warmed.append(file)
        }
        let edited = ChangeDetection.detect(state.sources).changed.contains { warmed.contains($0.captureFile) }
        guard !edited else {
            try? FileManager.default.removeItem(at: directory)
            return nil
        }
        try JSONFile.write(flags, to: directory.appendingPathComponent(flagsFile))
        let record = BaselineRecord(buildId: build.id, patches: [.init(patchId: 0, crates: crates)])
        try ProjectStore(layout).write(record, for: .functionBaseline)
        // Read each unit once now, while the user starts the app: the first patch then pays only
        // for the units its edit changed (a long-running server keeps them).
        for object in crates.values.joined() {
            do { _ = try UnitSymbols.load(object, cached: true) } catch { logger.warning("warm-up: \(error)") }
        }
        let units = crates.values.reduce(0) { $0 + $1.count }
        logger.info("warm-up: \(warmed.count) crate\(warmed.count == 1 ? "" : "s") compiled the patch way (\(units) codegen units) in \(Int((clock.now - start).milliseconds)) ms")
        let tipObjects = crates[tip.crateName] ?? []
        return WarmUp(
            directory: directory, objects: crates,
            baseline: DiffBaseline(
                source: .fatBuildObjects, objects: tipObjects,
                description: DiffBaseline.compiledBaselineDescription(build: build.id)))
    }

    /// The extra rustc flags of a build's warm-up and of its patches' normal (not fallback)
    /// compile: with the shared link, its code model, and full debug info (`-Cdebuginfo=2`, as a
    /// dev profile has): the types' layouts in it are what ``TypeLayoutCheck`` compares with the
    /// running build's. Incremental replays re-codegen only the edited units, so it costs little
    /// rustc time there. The library is linked without it (`--strip-debug`, after the check read
    /// the objects): a symbolised backtrace through patched code names functions, not lines.
    public static func arguments(sharedLink: Bool) -> [String] {
        sharedLink ? StaticsRelocation.largeCodeModel + ["-Cdebuginfo=2"] : []
    }

    /// The warm-up's flags, beside its objects: a warm-up made with other flags (an earlier
    /// version's) has other code in every unit, so it is no baseline for codegen units.
    static let flagsFile = "warm-up-flags.json"

    /// The build's warm-up directory if it was compiled with `flags` (the flags patches use now).
    public static func directory(of build: FatBuild, layout: ProjectLayout, flags: [String]) -> URL? {
        let directory = layout.build(build.id).diffBaseline
        guard let recorded = try? JSONFile.read([String].self, from: directory.appendingPathComponent(flagsFile)),
              recorded == flags else { return nil }
        return directory
    }

    /// What the build's warm-up compiled for `step`'s crate in `directory`, as a compile to link.
    static func compile(of step: ObjBuildPlan, in directory: URL) -> CrateBuildResult? {
        let objects = step.writtenObjects(in: directory.path)
        guard !objects.isEmpty else { return nil }
        let stem = "\(step.crateName)\(step.extraFilename)"
        let metadata = directory.appendingPathComponent("lib\(stem).rmeta").path
        return CrateBuildResult(
            crateName: step.crateName, captureFile: step.captureFile, objectPaths: objects,
            depInfoPath: directory.appendingPathComponent("\(stem).d").path,
            libraryPath: step.emitsLibrary && FileManager.default.fileExists(atPath: metadata) ? metadata : nil,
            rustcStartedAt: 0, durationMs: 0)
    }
}

extension DiffBaseline {
    static func compiledBaselineDescription(build: BuildID) -> String {
        "fat build \(build.rawValue) (its sources compiled like a patch)"
    }
}
