import Foundation

/// One replayed step's result: the compile, its warnings, its phase (nil when not replayed).
struct StepOutcome: Sendable {
    var crate: CrateBuildResult
    var diagnostics: String
    var timing: PhaseTiming?
}

extension StepOutcome {
    /// Runs one step and describes it. The tip's phase keeps the name every patch has always had
    /// (`rustc`: the page and scripts key on it); a library replayed before it is named after its crate.
    /// `delivery`: where the outputs are linked to (the patch's own directory) when rustc wrote them
    /// into the build's stable out dir.
    static func run(_ step: ObjBuildPlan, phaseName: String, delivery: URL?, cancellation: Cancellation?) throws -> StepOutcome {
        let startedAt = Date()
        let (result, diagnostics, objects) = try runRustc(step, cancellation: cancellation)
        let timing = PhaseTiming(name: phaseName, duration: result.duration)
        var depInfo = step.depInfoPath.path
        var library = step.libraryPath?.path
        var delivered = objects
        if let delivery {
            delivered = try objects.map { try deliver($0, to: delivery) }
            depInfo = try deliver(depInfo, to: delivery)
            library = try library.map { try deliver($0, to: delivery) }
        }
        return StepOutcome(
            crate: CrateBuildResult(
                crateName: step.crateName, captureFile: step.captureFile, objectPaths: delivered,
                depInfoPath: depInfo, libraryPath: library,
                rustcStartedAt: startedAt.timeIntervalSince1970, durationMs: timing.durationMs),
            diagnostics: diagnostics, timing: timing)
    }

    /// Hard-links `path` into `directory` (a copy across file systems); the new path.
    static func deliver(_ path: String, to directory: URL) throws -> String {
        let destination = directory.appendingPathComponent(URL(fileURLWithPath: path).lastPathComponent).path
        let files = FileManager.default
        if files.fileExists(atPath: destination) { try? files.removeItem(atPath: destination) }
        if link(path, destination) == 0 { return destination }
        do { try files.copyItem(atPath: path, toPath: destination) } catch {
            throw FileError.cannotWrite(path: destination, reason: (error as NSError).localizedDescription)
        }
        return destination
    }

    /// Runs one replayed rustc command; throws `rustcFailed` with its diagnostics, or `objectMissing`
    /// when it succeeded without writing its objects (or library). Returns the run, its stderr
    /// (warnings) and the objects it wrote.
    private static func runRustc(_ step: ObjBuildPlan, cancellation: Cancellation?) throws -> (result: CommandResult, diagnostics: String, objects: [String]) {
        if let incremental = step.incrementalDirectory {
            try? FileManager.default.createDirectory(atPath: incremental, withIntermediateDirectories: true)
        }
        for (metadata, archive) in step.metadataArchives.sorted(by: { $0.key < $1.key }) {
            try MetadataArchive.write(wrapping: metadata, to: archive)
        }
        let result = try CommandRunner.run(step.command, cancellation: cancellation, started: { TestHooks.pause(at: .rustc, child: $0) })
        let diagnostics = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.succeeded else {
            throw ThinBuildError.rustcFailed(crate: step.crateName, exitStatus: result.exitStatus, diagnostics: diagnostics, command: step.command.displayString)
        }
        let objects = step.writtenObjects()
        guard !objects.isEmpty else { throw ThinBuildError.objectMissing(path: step.objectPath.path) }
        if let library = step.libraryPath, !FileManager.default.fileExists(atPath: library.path) {
            throw ThinBuildError.objectMissing(path: library.path)
        }
        return (result, diagnostics, objects)
    }
}

/// A library step running on its own thread while later steps compile against its metadata.
final class BackgroundStep: Sendable {
    let step: ObjBuildPlan
    private let outcome = Locked<Result<StepOutcome, any Error>?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    init(_ step: ObjBuildPlan, phaseName: String, delivery: URL?, cancellation: Cancellation?) {
        self.step = step
        let outcome = self.outcome
        let finished = self.finished
        Thread.detachNewThread {
            let result = Result { try StepOutcome.run(step, phaseName: phaseName, delivery: delivery, cancellation: cancellation) }
            outcome.withLock { $0 = result }
            finished.signal()
        }
    }

    /// Waits until the library's metadata is in place (true) or rustc ended without it (false).
    func waitForMetadata() throws -> Bool {
        guard let metadata = step.libraryPath?.path else { return false }
        while outcome.withLock({ $0 == nil }) {
            if FileManager.default.fileExists(atPath: metadata) { return true }
            usleep(2_000)
        }
        return false
    }

    /// The step's outcome once rustc ended; rethrows its failure.
    func wait() throws -> StepOutcome {
        finished.wait()
        finished.signal()
        guard let result = outcome.withLock({ $0 }) else { throw ThinBuildError.objectMissing(path: step.objectPath.path) }
        return try result.get()
    }
}
