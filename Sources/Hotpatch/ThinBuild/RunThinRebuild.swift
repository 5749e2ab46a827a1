import Foundation

/// What a thin rebuild produced.
public struct ThinBuildResult: Codable, Sendable, Equatable {
    /// The object to link into the patch library.
    public var objectPath: String
    public var depInfoPath: String
    /// rustc's stderr on success (warnings), human-readable.
    public var diagnostics: String
    /// `changeDetection` (from the plan) and `rustc`.
    public var phases: [PhaseTiming]
    public var durationMs: Double
    /// When rustc started (seconds since 1970): files modified after it may not be in the object.
    public var rustcStartedAt: Double
    /// The replayed command, shell-quoted (the benchmark's "floor").
    public var rustcCommand: String
}

/// Runs the plan's rustc command in a fresh out dir. A compile error throws
/// `ThinBuildError.rustcFailed` with rustc's diagnostics and exit status.
public func runThinRebuild(_ plan: ThinRebuildPlan, cancellation: Cancellation? = nil) throws -> ThinBuildResult {
    let objectPlan = plan.objectPlan
    let outDirectory = URL(fileURLWithPath: objectPlan.outDirectory)
    do {
        // Fresh: a stale object from an earlier attempt must never be linked.
        if FileManager.default.fileExists(atPath: outDirectory.path) { try FileManager.default.removeItem(at: outDirectory) }
        try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
    } catch {
        throw FileError.cannotWrite(path: outDirectory.path, reason: (error as NSError).localizedDescription)
    }
    let startedAt = Date()
    let result = try CommandRunner.run(objectPlan.command, cancellation: cancellation)
    let diagnostics = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
    guard result.succeeded else {
        throw ThinBuildError.rustcFailed(crate: objectPlan.crateName, exitStatus: result.exitStatus, diagnostics: diagnostics, command: objectPlan.command.displayString)
    }
    guard FileManager.default.fileExists(atPath: objectPlan.objectPath.path) else {
        throw ThinBuildError.objectMissing(path: objectPlan.objectPath.path)
    }
    let phases = [
        PhaseTiming(name: "changeDetection", durationMs: plan.changeDetectionMs),
        PhaseTiming(name: "rustc", duration: result.duration),
    ]
    return ThinBuildResult(
        objectPath: objectPlan.objectPath.path,
        depInfoPath: objectPlan.depInfoPath.path,
        diagnostics: diagnostics,
        phases: phases,
        durationMs: phases.reduce(0) { $0 + $1.durationMs },
        rustcStartedAt: startedAt.timeIntervalSince1970,
        rustcCommand: objectPlan.command.displayString
    )
}

extension ProjectState {
    /// The state after a patch built from `plan` succeeded: fingerprints as measured when the plan
    /// was made, and the rebuilt crate re-tracked from the thin build's dep-info (an edit may have
    /// added a module file); a file edited again while rustc ran stays "changed". Save it once the
    /// patch is delivered.
    public func recordingThinRebuild(_ plan: ThinRebuildPlan, result: ThinBuildResult, build: FatBuild) throws -> ProjectState {
        var next = self
        next.sources = plan.changes.current
        let tip = try build.tipInvocation()
        let known = plan.changes.current.flatMap(\.files)
        let retracked = try TrackedCrate.measure(tip, depInfo: URL(fileURLWithPath: result.depInfoPath),
                                                 compiledAfter: Date(timeIntervalSince1970: result.rustcStartedAt), known: known)
        if let index = next.sources.firstIndex(where: { $0.captureFile == retracked.captureFile }) {
            next.sources[index] = retracked
        } else {
            next.sources.append(retracked)
        }
        return next
    }
}
