@testable import DevServer
import Foundation
@testable import Hotpatch
import Synchronization

/// A scripted `PatchPipeline`: every step records itself, succeeds with a fixture
/// (`PipelineFixtures`) unless told to fail, may cost scripted time on a `ManualClock`, and may be
/// held at a `Gate` until the test opens it (or the job is cancelled, which it then reports the
/// way a killed child process does: by throwing).
final class FakePipeline: PatchPipeline {
    /// One call the session made, with what identifies it.
    enum Step: Hashable, Sendable, CustomStringConvertible {
        case fatBuild(BuildID)
        case warmUp(BuildID)
        case allocatePatch
        case compile(patch: Int)
        case link(patch: Int, aslrReference: UInt64)
        case commit(patch: Int, library: String?)
        case restore(patch: Int)

        /// The step without its arguments, for costs.
        enum Kind: Hashable, Sendable {
            case fatBuild, warmUp, allocatePatch, compile, link, commit, restore
        }

        var kind: Kind {
            switch self {
            case .fatBuild: .fatBuild
            case .warmUp: .warmUp
            case .allocatePatch: .allocatePatch
            case .compile: .compile
            case .link: .link
            case .commit: .commit
            case .restore: .restore
            }
        }

        var description: String {
            switch self {
            case .fatBuild: "fatBuild"
            case .warmUp: "warmUp"
            case .allocatePatch: "allocatePatch"
            case .compile(let patch): "compile \(patch)"
            case .link(let patch, let reference): "link \(patch) @\(HexAddress.format(reference))"
            case .commit(let patch, _): "commit \(patch)"
            case .restore(let patch): "restore \(patch)"
            }
        }
    }

    /// What the fake's compile hands the session.
    struct Compilation: PipelineCompilation {
        let buildId: BuildID
        let patchId: Int
        let stored: StoredCompilation
        var phases: [PhaseTiming] { stored.phases }
        var rebuiltCrates: [String] { ["app"] }
        var changedFiles: [String] { stored.thinPlan.changes.changed.flatMap(\.changedFiles) }
    }

    /// How a step that was told to fail fails.
    struct ScriptedFailure: HotpatchError {
        var code: String
        var message: String
        var hint: String? = nil
    }

    /// Thrown by a held step whose job was cancelled: what a signalled rustc amounts to.
    struct Interrupted: Error {}

    /// What the test scripted and what the session called, behind one lock (the session calls
    /// from its job thread and link executor while the test reads).
    private struct Script {
        var calls: [Step] = []
        var gates: [Step: Gate] = [:]
        var nextGates: [Step.Kind: Gate] = [:]
        var failures: [Step: any Error] = [:]
        var costs: [Step.Kind: Duration] = [:]
        var builds: [BuildID: FatBuild] = [:]
        var lastPatch = 0
        var sourcesUnchanged: Bool?
        /// The files each diff was asked to compare, in order.
        var diffs: [(old: String, new: String)] = []
        /// Diffs started and not yet finished.
        var diffsRunning = 0
        /// Steps that saw their job's cancellation.
        var cancelled: [Step] = []
    }

    let root: URL
    let layout: ProjectLayout
    let clock: ManualClock
    /// How links are made: one shared library for every process, or one per slide.
    let linkMode: PatchLinkMode
    private let script = Mutex(Script())

    init(layout: ProjectLayout, clock: ManualClock, linkMode: PatchLinkMode = .shared) {
        self.layout = layout
        self.root = layout.root
        self.clock = clock
        self.linkMode = linkMode
    }

    // MARK: scripting

    /// Holds `step` until the returned gate is opened.
    func hold(_ step: Step) -> Gate {
        let gate = Gate()
        script.withLock { $0.gates[step] = gate }
        return gate
    }

    /// Holds the next step of `kind`, whatever its arguments (a build id made from the clock).
    func holdNext(_ kind: Step.Kind) -> Gate {
        let gate = Gate()
        script.withLock { $0.nextGates[kind] = gate }
        return gate
    }

    /// `step` throws `error` (by default a pipeline failure coded `scripted_failure`).
    func fail(_ step: Step, with error: any Error = ScriptedFailure(code: "scripted_failure", message: "the fake pipeline was told to fail")) {
        script.withLock { $0.failures[step] = error }
    }

    /// Every `kind` step moves the clock on by `duration`.
    func cost(_ kind: Step.Kind, _ duration: Duration) {
        script.withLock { $0.costs[kind] = duration }
    }

    /// The next patch gets number `last + 1` (a journal of an earlier run has the ones before).
    func startPatchNumbers(after last: Int) {
        script.withLock { $0.lastPatch = last }
    }

    func setSourcesUnchanged(_ value: Bool?) {
        script.withLock { $0.sourcesUnchanged = value }
    }

    /// Every call so far, in order.
    var calls: [Step] { script.withLock { $0.calls } }

    /// The calls of one kind, in order.
    func calls(_ kind: Step.Kind) -> [Step] { calls.filter { $0.kind == kind } }

    /// Steps that were held when their job was cancelled.
    var cancelledSteps: [Step] { script.withLock { $0.cancelled } }

    // MARK: PatchPipeline

    func toolchain() throws -> RustcVersion {
        guard let version = PipelineFixtures.toolchain() else { throw ScriptedFailure(code: "no_rustc", message: "no rustc") }
        return version
    }

    func fatBuild(
        id: BuildID, cancellation: Cancellation, phaseFinished: @escaping @Sendable (PhaseTiming) -> Void
    ) throws -> FatBuild {
        try perform(.fatBuild(id), cancellation)
        for phase in PipelineFixtures.buildPhases { phaseFinished(phase) }
        let build = PipelineFixtures.fatBuild(id, root: root)
        script.withLock { $0.builds[id] = build }
        return build
    }

    func binarySize(of build: FatBuild) -> Int? { 8_100_000 }

    func warmUp(_ build: FatBuild, cancellation: Cancellation) throws -> Bool {
        try perform(.warmUp(build.id), cancellation)
        return true
    }

    func isUpToDate(_ build: FatBuild) -> Bool { false }
    func isPatchable(_ build: FatBuild) -> Bool { true }

    func sourcesUnchanged() throws -> Bool? { script.withLock { $0.sourcesUnchanged } }

    func allocatePatch() throws -> PatchDirectory {
        try perform(.allocatePatch, nil)
        return layout.patch(script.withLock { state in
            state.lastPatch += 1
            return state.lastPatch
        })
    }

    func compile(_ build: FatBuild, patch: PatchDirectory, cancellation: Cancellation) throws -> Compilation {
        try perform(.compile(patch: patch.id), cancellation)
        let stored = try PipelineFixtures.storedCompilation(build: build.id, patch: patch.id, root: root)
        return Compilation(buildId: build.id, patchId: patch.id, stored: stored)
    }

    func link(_ compilation: Compilation, aslrReference: UInt64) throws -> LinkedPatch {
        try perform(.link(patch: compilation.patchId, aslrReference: aslrReference), nil)
        let name = linkMode == .shared
            ? "libwhisker-patch-\(compilation.patchId).so"
            : "libwhisker-patch-\(compilation.patchId)-\(String(aslrReference, radix: 16)).so"
        let library = layout.patch(compilation.patchId).library(named: name).path
        return LinkedPatch(
            plan: try PipelineFixtures.plan(
                patch: compilation.patchId, build: compilation.buildId, library: library, aslrReference: aslrReference,
                mode: linkMode, root: root),
            jumpTable: PipelineFixtures.jumpTable(
                patch: compilation.patchId, build: compilation.buildId, library: library, aslrReference: aslrReference))
    }

    func commit(_ compilation: Compilation, libraryPath: String?) throws {
        try perform(.commit(patch: compilation.patchId, library: libraryPath), nil)
    }

    func restore(_ stored: StoredCompilation) throws -> Compilation {
        try perform(.restore(patch: stored.patchId), nil)
        return Compilation(buildId: stored.buildId, patchId: stored.patchId, stored: stored)
    }

    func anchorAddress(of build: FatBuild) throws -> UInt64? { PipelineFixtures.anchor }

    func symbols(of build: FatBuild) throws -> SymbolTable {
        throw ScriptedFailure(code: "not_scripted", message: "the fake pipeline has no symbol tables")
    }

    /// The real diff (the live pipeline's), recorded: which files a request got compared.
    func diff(oldPath: String, newPath: String) throws -> DiffReport {
        script.withLock {
            $0.diffs.append((oldPath, newPath))
            $0.diffsRunning += 1
        }
        defer { script.withLock { $0.diffsRunning -= 1 } }
        return try LivePipeline.diff(oldPath: oldPath, newPath: newPath)
    }

    /// The files every diff so far compared.
    var diffs: [(old: String, new: String)] { script.withLock { $0.diffs } }

    /// Diffs under way now.
    var diffsRunning: Int { script.withLock { $0.diffsRunning } }

    /// Records `step`, waits at its gate, spends its cost and throws its scripted failure.
    private func perform(_ step: Step, _ cancellation: Cancellation?) throws {
        let (gate, failure, cost) = script.withLock { state in
            state.calls.append(step)
            let gate = state.gates.removeValue(forKey: step) ?? state.nextGates.removeValue(forKey: step.kind)
            return (gate, state.failures.removeValue(forKey: step), state.costs[step.kind])
        }
        if let gate {
            do {
                try gate.pass(cancellation)
            } catch {
                script.withLock { $0.cancelled.append(step) }
                throw error
            }
        }
        if let cost { clock.advance(by: cost) }
        if let failure { throw failure }
    }
}

/// Where a held pipeline step waits: the step reports that it arrived, then waits until the test
/// opens the gate or the step's job is cancelled.
final class Gate: Sendable {
    private let arrived = DispatchSemaphore(value: 0)
    private let opened = DispatchSemaphore(value: 0)

    /// Waits until a step arrives at the gate; false after `timeout`.
    func waitUntilReached(timeout: Duration = .seconds(5)) -> Bool {
        arrived.wait(timeout: .now() + .milliseconds(Int(timeout.components.seconds * 1000))) == .success
    }

    func open() {
        opened.signal()
    }

    /// The step's side: waits, watching `cancellation` every millisecond.
    func pass(_ cancellation: Cancellation?) throws {
        arrived.signal()
        while opened.wait(timeout: .now() + .milliseconds(1)) == .timedOut {
            if cancellation?.isCancelled == true { throw FakePipeline.Interrupted() }
        }
    }
}
