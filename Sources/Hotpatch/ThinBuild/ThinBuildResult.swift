import Foundation

/// What one replayed crate produced.
public struct CrateBuildResult: Codable, Sendable, Equatable {
    public var crateName: String
    /// The crate's capture file in the build (empty for plans that predate it: the tip crate).
    public var captureFile: String
    /// The first of `objectPaths` (the only one without incremental codegen units).
    public var objectPath: String
    /// Every object rustc wrote for the crate: one per codegen unit for an incremental step.
    public var objectPaths: [String]
    public var depInfoPath: String
    /// The rlib dependents were compiled against, for a library step.
    public var libraryPath: String?
    /// When its rustc started (seconds since 1970): files modified after it may not be in the object.
    public var rustcStartedAt: Double
    public var durationMs: Double

    /// Whether its objects and library are all still on disk (a later patch may link it again).
    public var isOnDisk: Bool {
        ([libraryPath].compactMap { $0 } + objectPaths).allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }

    public init(crateName: String, captureFile: String, objectPaths: [String], depInfoPath: String, libraryPath: String?,
                rustcStartedAt: Double, durationMs: Double) {
        self.crateName = crateName
        self.captureFile = captureFile
        self.objectPath = objectPaths.first ?? ""
        self.objectPaths = objectPaths
        self.depInfoPath = depInfoPath
        self.libraryPath = libraryPath
        self.rustcStartedAt = rustcStartedAt
        self.durationMs = durationMs
    }

    // Results stored before incremental thin rebuilds have one object per crate.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        crateName = try container.decode(String.self, forKey: .crateName)
        captureFile = try container.decode(String.self, forKey: .captureFile)
        objectPath = try container.decode(String.self, forKey: .objectPath)
        objectPaths = try container.decodeIfPresent([String].self, forKey: .objectPaths) ?? [objectPath]
        depInfoPath = try container.decode(String.self, forKey: .depInfoPath)
        libraryPath = try container.decodeIfPresent(String.self, forKey: .libraryPath)
        rustcStartedAt = try container.decode(Double.self, forKey: .rustcStartedAt)
        durationMs = try container.decode(Double.self, forKey: .durationMs)
    }
}

/// What a thin rebuild produced.
public struct ThinBuildResult: Codable, Sendable, Equatable {
    /// The tip crate's object.
    public var objectPath: String
    public var depInfoPath: String
    /// rustc's stderr on success (warnings), human-readable, every step's in order.
    public var diagnostics: String
    /// `changeDetection` (from the plan), then `rustc <crate>` per step.
    public var phases: [PhaseTiming]
    public var durationMs: Double
    /// When the tip's rustc started (seconds since 1970).
    public var rustcStartedAt: Double
    /// The tip's replayed command, shell-quoted (the benchmark's "floor").
    public var rustcCommand: String
    /// Every step's outcome in plan order (the tip last).
    public var crates: [CrateBuildResult]
    /// Capture files of the steps not replayed: every library they depend on kept its interface,
    /// so their earlier compile is linked (``ThinRebuildPlan/conditional``).
    public var skipped: [String] = []

    /// Every object the rebuilt crates wrote, in link order (before ``CodegenUnitSelection``
    /// keeps only what differs from the running code).
    public var objectPaths: [String] { crates.isEmpty ? [objectPath] : crates.flatMap(\.objectPaths) }

    public init(objectPath: String, depInfoPath: String, diagnostics: String, phases: [PhaseTiming], durationMs: Double,
                rustcStartedAt: Double, rustcCommand: String, crates: [CrateBuildResult]) {
        self.objectPath = objectPath
        self.depInfoPath = depInfoPath
        self.diagnostics = diagnostics
        self.phases = phases
        self.durationMs = durationMs
        self.rustcStartedAt = rustcStartedAt
        self.rustcCommand = rustcCommand
        self.crates = crates
    }

    // Results stored before workspace libraries could be rebuilt have no `crates`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        objectPath = try container.decode(String.self, forKey: .objectPath)
        depInfoPath = try container.decode(String.self, forKey: .depInfoPath)
        diagnostics = try container.decode(String.self, forKey: .diagnostics)
        phases = try container.decode([PhaseTiming].self, forKey: .phases)
        durationMs = try container.decode(Double.self, forKey: .durationMs)
        rustcStartedAt = try container.decode(Double.self, forKey: .rustcStartedAt)
        rustcCommand = try container.decode(String.self, forKey: .rustcCommand)
        crates = try container.decodeIfPresent([CrateBuildResult].self, forKey: .crates) ?? []
        skipped = try container.decodeIfPresent([String].self, forKey: .skipped) ?? []
    }
}

extension ThinBuildResult {
    /// The thin-build stage: runs the plan's rustc commands in order in a fresh out dir. A compile error
    /// throws `ThinBuildError.rustcFailed` with rustc's diagnostics and exit status, and later steps do not
    /// run; cancellation stops the running rustc and skips the rest.
    ///
    /// Pipelined like cargo: rustc writes a library's `.rmeta` (renamed into place) before its code
    /// generation, so the next step — which needs only the metadata — starts then, while the library's
    /// codegen units are still being generated; at most one library step runs in the background.
    public static func run(_ plan: ThinRebuildPlan, cancellation: Cancellation? = nil) throws -> ThinBuildResult {
        // Fresh: a stale object or rlib from an earlier attempt must never be linked or found.
        for directory in Set(plan.steps.map(\.outDirectory)).sorted() {
            try makeFreshDirectory(URL(fileURLWithPath: directory))
        }
        let delivery = plan.deliveryDirectory.map { URL(fileURLWithPath: $0) }
        if let delivery { try FileManager.default.createDirectory(at: delivery, withIntermediateDirectories: true) }
        var outcomes: [Int: StepOutcome] = [:]
        var skipped: [String] = []
        // Library capture file → whether its rebuilt metadata differs from the one before the patch.
        var interfaceChanged: [String: Bool] = [:]
        var background: (index: Int, run: BackgroundStep)?

        func interface(of step: ObjBuildPlan) -> Bool {
            guard let library = step.libraryPath, let previous = plan.previousInterfaces[step.captureFile] else { return true }
            return !LibraryInterface.equivalent(previous, library.path)
        }
        func finishBackground() throws {
            guard let (index, run) = background else { return }
            background = nil
            outcomes[index] = try run.wait()
            if interfaceChanged[run.step.captureFile] == nil { interfaceChanged[run.step.captureFile] = interface(of: run.step) }
        }

        // A failing step must not leave a library's rustc writing into its incremental directory
        // while the next patch starts: wait for it before reporting.
        defer { if let (_, run) = background { _ = try? run.wait() } }
        for (index, step) in plan.steps.enumerated() {
            let dependencies = plan.stepDependencies[step.captureFile] ?? []
            if let (_, run) = background, dependencies.contains(run.step.captureFile) {
                // Its metadata is all this step compiles against.
                if try run.waitForMetadata() {
                    interfaceChanged[run.step.captureFile] = interface(of: run.step)
                } else {
                    try finishBackground()
                }
            }
            if let reuse = plan.conditional[step.captureFile], dependencies.allSatisfy({ interfaceChanged[$0] == false }) {
                if let metadata = reuse.libraryPath, let expected = step.libraryPath {
                    // Later steps name this path in `--extern` (same file name: the same crate's rmeta).
                    _ = try StepOutcome.deliver(metadata, to: expected.deletingLastPathComponent())
                }
                outcomes[index] = StepOutcome(crate: reuse, diagnostics: "", timing: nil)
                skipped.append(step.captureFile)
                interfaceChanged[step.captureFile] = false
                continue
            }
            let name = step == plan.steps.last ? "rustc" : "rustc \(step.crateName)"
            let hasDependents = plan.steps[(index + 1)...].contains { (plan.stepDependencies[$0.captureFile] ?? []).contains(step.captureFile) }
            if step.emitsLibrary, step.incrementalDirectory != nil, hasDependents {
                try finishBackground()
                background = (index, BackgroundStep(step, phaseName: name, delivery: delivery, cancellation: cancellation))
            } else {
                outcomes[index] = try StepOutcome.run(step, phaseName: name, delivery: delivery, cancellation: cancellation)
            }
        }
        try finishBackground()

        var phases = [PhaseTiming(name: "changeDetection", durationMs: plan.changeDetectionMs)]
        var crates: [CrateBuildResult] = plan.reused
        var diagnostics: [String] = []
        for index in plan.steps.indices {
            guard let outcome = outcomes[index] else { continue }
            crates.append(outcome.crate)
            if let timing = outcome.timing { phases.append(timing) }
            if !outcome.diagnostics.isEmpty { diagnostics.append(outcome.diagnostics) }
        }
        let tip = plan.objectPlan
        var result = ThinBuildResult(
            objectPath: crates.last?.objectPath ?? tip.objectPath.path,
            depInfoPath: crates.last?.depInfoPath ?? tip.depInfoPath.path,
            diagnostics: diagnostics.joined(separator: "\n"),
            phases: phases,
            durationMs: phases.reduce(0) { $0 + $1.durationMs },
            rustcStartedAt: crates.last?.rustcStartedAt ?? Date().timeIntervalSince1970,
            rustcCommand: tip.command.displayString,
            crates: crates
        )
        result.skipped = skipped
        return result
    }
}

extension ProjectState {
    /// The state after a patch built from `plan` succeeded: fingerprints as measured when the plan
    /// was made, and every rebuilt crate re-tracked from its thin build's dep-info (an edit may
    /// have added a module file); a file edited again while rustc ran stays "changed". Save it
    /// once the patch is delivered. `units`: what the patch linked of each crate, added to the
    /// build's linked units.
    public func recordingThinRebuild(
        _ plan: ThinRebuildPlan, result: ThinBuildResult, build: FatBuild, units: CodegenUnitSelection? = nil
    ) throws -> ProjectState {
        var next = self
        if let units {
            var linked = linkedUnits(of: plan.buildId)
            for crate in units.crates {
                linked[crate.captureFile] = Array(Set(linked[crate.captureFile] ?? []).union(crate.linked)).sorted()
            }
                next.linkedUnits = .init(buildId: plan.buildId, units: linked)
        }
        let arguments = ObjBuildPlan.codeArguments(plan.objectPlan.extraArguments)
        var latest = latestCompiles(of: plan.buildId, arguments: arguments)
        for crate in result.crates { latest[crate.captureFile] = crate }
        next.latestCompiles = .init(buildId: plan.buildId, arguments: arguments, crates: latest)
        next.sources = plan.changes.current
        let known = plan.changes.current.flatMap(\.files)
        let reusedFiles = Set(plan.reused.map(\.captureFile)).union(result.skipped)
        let rebuilt = result.crates.isEmpty
            ? [CrateBuildResult(crateName: plan.crateName, captureFile: "", objectPaths: [result.objectPath], depInfoPath: result.depInfoPath,
                                libraryPath: nil, rustcStartedAt: result.rustcStartedAt, durationMs: 0)]
            : result.crates.filter { !reusedFiles.contains($0.captureFile) }
        for crate in rebuilt {
            let capture = crate.captureFile.isEmpty ? try build.tipInvocation() : try build.rustcInvocation(captureFile: crate.captureFile)
            let retracked = try TrackedCrate.measure(capture, depInfo: URL(fileURLWithPath: crate.depInfoPath),
                                                     compiledAfter: Date(timeIntervalSince1970: crate.rustcStartedAt), known: known)
            if let index = next.sources.firstIndex(where: { $0.captureFile == retracked.captureFile }) {
                next.sources[index] = retracked
            } else {
                next.sources.append(retracked)
            }
        }
        let libraries = plan.steps.filter(\.emitsLibrary).map(\.captureFile).filter { !$0.isEmpty }
        let patched = next.patchedLibraries(of: plan.buildId)
        next.patchedLibraries = .init(buildId: plan.buildId, captureFiles: patched + libraries.filter { !patched.contains($0) })
        return next
    }
}
