import Foundation

/// What a patch recompiles and why: the changed crates found from the fat build's dep-info
/// fingerprints, and the rustc command of every crate to replay, in order.
public struct ThinRebuildPlan: Codable, Sendable, Equatable {
    public var buildId: BuildID
    public var patchId: Int
    /// The tip crate: the binary crate of the build, always the last step.
    public var crateName: String
    public var changes: ChangeSet
    /// The tip crate's command (the last of `steps`).
    public var objectPlan: ObjBuildPlan
    /// Every crate replayed, dependencies before dependents, the tip last: each changed workspace
    /// library the binary uses, then every workspace crate depending on one of them. Each step's
    /// object goes into the patch.
    public var steps: [ObjBuildPlan]
    /// Crates an earlier patch of the build compiled whose sources and dependencies have not
    /// changed since: their objects are linked again as they are, not replayed.
    public var reused: [CrateBuildResult] = []
    /// Steps that run only because a library they depend on was rebuilt, with the compile to
    /// link instead when every such library's interface stayed the same (``LibraryInterface``).
    public var conditional: [String: CrateBuildResult] = [:]
    /// Library capture file → its metadata before this patch, to compare the rebuilt one with.
    public var previousInterfaces: [String: String] = [:]
    /// Capture file → the capture files of earlier steps it depends on.
    public var stepDependencies: [String: [String]] = [:]
    /// Where the steps' outputs are kept for this patch when rustc writes them into the build's
    /// stable out dir (``stableOutputDirectory(incrementalRoot:)``); nil: rustc writes them there.
    public var deliveryDirectory: String?
    public var changeDetectionMs: Double

    public init(
        buildId: BuildID, patchId: Int, changes: ChangeSet, steps: [ObjBuildPlan], reused: [CrateBuildResult] = [],
        objectPlan: ObjBuildPlan, changeDetectionMs: Double
    ) {
        self.buildId = buildId
        self.patchId = patchId
        self.crateName = objectPlan.crateName
        self.changes = changes
        self.objectPlan = objectPlan
        self.steps = steps
        self.reused = reused
        self.changeDetectionMs = changeDetectionMs
    }

    /// The crate names of every step, in order (`PatchPlan.cratesRebuilt`).
    public var rebuiltCrates: [String] { steps.map(\.crateName) }

    // Plans stored before workspace libraries could be rebuilt have no `steps`: the tip alone.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        buildId = try container.decode(BuildID.self, forKey: .buildId)
        patchId = try container.decode(Int.self, forKey: .patchId)
        crateName = try container.decode(String.self, forKey: .crateName)
        changes = try container.decode(ChangeSet.self, forKey: .changes)
        objectPlan = try container.decode(ObjBuildPlan.self, forKey: .objectPlan)
        steps = try container.decodeIfPresent([ObjBuildPlan].self, forKey: .steps) ?? [objectPlan]
        reused = try container.decodeIfPresent([CrateBuildResult].self, forKey: .reused) ?? []
        conditional = try container.decodeIfPresent([String: CrateBuildResult].self, forKey: .conditional) ?? [:]
        previousInterfaces = try container.decodeIfPresent([String: String].self, forKey: .previousInterfaces) ?? [:]
        stepDependencies = try container.decodeIfPresent([String: [String]].self, forKey: .stepDependencies) ?? [:]
        deliveryDirectory = try container.decodeIfPresent(String.self, forKey: .deliveryDirectory)
        changeDetectionMs = try container.decode(Double.self, forKey: .changeDetectionMs)
    }
}

extension ThinRebuildPlan {
    /// The thin-build plan stage: compares the tracked sources in `state` with the files on disk and plans
    /// the rebuild into `patch.objectDirectory`: every changed workspace library the binary depends on (path
    /// dependencies outside the workspace included; registry crates are never tracked) with its rlib, then
    /// every tracked crate that depends on one of them, in dependency order, the binary crate last. Libraries
    /// an earlier patch of the same build rebuilt count as changed: the program runs their patched code,
    /// which the fat build's rlibs don't have.
    ///
    /// Throws `.nothingChanged` when nothing the binary uses changed, unless `force` is set (then the
    /// binary crate is rebuilt regardless, e.g. for benchmarks), and ``NotPatchableError`` (`proc_macro_changed`) for an
    /// edited proc-macro crate. `extraRustcArguments` are appended to every replayed command (code
    /// model, debuginfo…): the objects are linked together, so they must agree.
    /// `incrementalRoot`: where each replayed crate keeps its own incremental state
    /// (``ObjBuildPlan/incrementalDirectory(root:invocation:extraArguments:)``); nil replays every crate from
    /// scratch as one codegen unit. `reusable`: capture file → the latest compile of a crate in this
    /// build with the same code flags (``ProjectState/latestCompiles(of:arguments:)``); a library
    /// patched earlier that did not change since is linked from it instead of being replayed.
    /// `warmUp`: the build's warm-up directory when the patch compiles with its flags: a dependent
    /// whose libraries kept their interface is linked from its latest compile or the warm-up's.
    public static func make(
        build: FatBuild,
        state: ProjectState,
        patch: PatchDirectory,
        force: Bool = false,
        extraRustcArguments: [String] = [],
        incrementalRoot: URL? = nil,
        reusable: [String: CrateBuildResult] = [:],
        warmUp: URL? = nil
    ) throws -> ThinRebuildPlan {
        let clock = ContinuousClock()
        let start = clock.now
        guard !state.sources.isEmpty else { throw ThinBuildError.noTrackedSources(project: build.project) }
        let tip = try build.tipInvocation()
        let changes = ChangeDetection.detect(state.sources)
        var captures = [tip]
        for crate in state.sources where crate.captureFile != tip.captureFilename {
            captures.append(try build.rustcInvocation(captureFile: crate.captureFile))
        }
        let graph = CrateGraph(captures)
        let used = graph.reachable(from: tip.captureFilename)
        let changed = changes.changed.filter { used.contains($0.captureFile) }
        let macros = changed.filter { $0.crateTypes.contains("proc-macro") }
        if !macros.isEmpty {
            // A macro's code runs in the compiler: what it generates changes only when every crate
            // using it recompiles, which is a fat build's job. A reason, so `serve` restarts.
            throw NotPatchableError(reasons: macros.map { crate in
                UnpatchableReason(
                    code: "proc_macro_changed",
                    message: "the proc-macro crate `\(crate.crateName)` changed: it runs inside the compiler, so the code it generates changes only in a new build",
                    type: crate.crateName, file: crate.changedFiles.first)
            })
        }
        // Libraries an earlier patch of this build replaced run patched code: they are linked again,
        // from their latest compile when it is still on disk, else replayed (ProjectState.patchedLibraries).
        let patched = state.patchedLibraries(of: build.id)
        let fresh = patched.filter { reusable[$0].map { $0.libraryPath != nil && $0.isOnDisk } ?? false }
        let stale = Set(changed.map(\.captureFile)).union(patched.filter { !fresh.contains($0) })
        if changed.isEmpty && !force { throw ThinBuildError.nothingChanged }
        var order = graph.rebuildOrder(changed: stale, within: used)
        // The tip depends on every crate it reaches, so the order already ends with it; a library the
        // tip reaches only through an unparsed argument must still not be linked after it.
        order.removeAll { $0 == tip.captureFilename }
        order.append(tip.captureFilename)

        var rebuilt: [String: String] = [:]
        var reused: [CrateBuildResult] = []
        for file in fresh where !order.contains(file) {
            guard let latest = reusable[file], let capture = graph.captures[file], let library = latest.libraryPath else { continue }
            rebuilt[CrateGraph.libraryStem(of: capture)] = library
            reused.append(latest)
        }
        var steps: [ObjBuildPlan] = []
        // rustc's incremental state depends on the out dir's path (a new one re-generates every
        // codegen unit): incremental replays always write into the build's one stable directory, and
        // each patch keeps hard links to what it produced.
        let outDirectory = incrementalRoot.map(Self.stableOutputDirectory(incrementalRoot:)) ?? patch.objectDirectory
        for file in order {
            guard let capture = graph.captures[file] else { continue }
            let step = ObjBuildPlan(
                invocation: capture, outDirectory: outDirectory, extraArguments: extraRustcArguments,
                emitsLibrary: file != tip.captureFilename, rebuiltLibraries: rebuilt,
                incrementalDirectory: incrementalRoot.flatMap {
                    ObjBuildPlan.incrementalDirectory(root: $0, invocation: capture, extraArguments: extraRustcArguments)
                })
            if let library = step.libraryPath { rebuilt[CrateGraph.libraryStem(of: capture)] = library.path }
            steps.append(step)
        }
        guard let tipStep = steps.last else { throw ThinBuildError.nothingChanged }

        var conditional: [String: CrateBuildResult] = [:]
        var previousInterfaces: [String: String] = [:]
        var stepDependencies: [String: [String]] = [:]
        let inPlan = Set(order)
        for step in steps where step.incrementalDirectory != nil {
            let file = step.captureFile
            stepDependencies[file] = (graph.dependencies[file] ?? []).filter(inPlan.contains).sorted()
            let latest = reusable[file].flatMap { $0.isOnDisk ? $0 : nil }
            let warm = warmUp.flatMap { WarmUp.compile(of: step, in: $0) }
            if step.emitsLibrary, let previous = latest?.libraryPath ?? warm?.libraryPath { previousInterfaces[file] = previous }
            guard !stale.contains(file), let reuse = latest ?? warm, !step.emitsLibrary || reuse.libraryPath != nil else { continue }
            conditional[file] = reuse
        }
        var plan = ThinRebuildPlan(
            buildId: build.id, patchId: patch.id, changes: changes, steps: steps, reused: reused, objectPlan: tipStep,
            changeDetectionMs: (clock.now - start).milliseconds)
        plan.conditional = conditional
        plan.previousInterfaces = previousInterfaces
        plan.stepDependencies = stepDependencies
        if incrementalRoot != nil { plan.deliveryDirectory = patch.objectDirectory.standardizedFileURL.path }
        return plan
    }

    /// The one out dir of a build's incremental replays: `<build>/thin-incremental/out`.
    public static func stableOutputDirectory(incrementalRoot: URL) -> URL {
        incrementalRoot.appendingPathComponent("out")
    }
}

extension ObjBuildPlan {
    /// The patch's own incremental directory for one crate under `root` (`<build>/thin-incremental`):
    /// `<capture file stem>-<digest of the extra flags>`, so the shared link's code model and the
    /// per-device fallback's never evict each other's state. Nil when cargo did not compile the crate
    /// incrementally (release profiles): there the replay stays one codegen unit from scratch, as the
    /// fat build's own objects were not partitioned for reuse either.
    public static func incrementalDirectory(root: URL, invocation: CapturedRustcInvocation, extraArguments: [String]) -> URL? {
        let captured = RustcCommandLine(invocation.arguments).arguments.contains { $0.codegenKey == "incremental" }
        guard captured else { return nil }
        let stem = invocation.captureFilename.hasSuffix(".json") ? String(invocation.captureFilename.dropLast(5)) : invocation.captureFilename
        // FNV-1a: a stable short name, not a security boundary.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in codeArguments(extraArguments).joined(separator: "\u{0}").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return root.appendingPathComponent("\(stem)-\(String(hash >> 40, radix: 16))")
    }

    /// The flags among `arguments` that can change generated code: diagnostics flags (`--color`,
    /// which `serve` adds) don't, so a serve patch and the warm-up share incremental state.
    public static func codeArguments(_ arguments: [String]) -> [String] {
        arguments.filter { !$0.hasPrefix("--color") }
    }
}
