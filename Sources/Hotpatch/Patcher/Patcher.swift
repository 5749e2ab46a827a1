import Foundation
import Logging

/// The result of the compile half of a patch: the thin rebuild's objects, before any process's
/// slide is known. The server links one library per device slide from it.
public struct PatchCompilation: Sendable {
    public var build: FatBuild
    public var patch: PatchDirectory
    public var thinPlan: ThinRebuildPlan
    public var thinResult: ThinBuildResult
    /// The patch objects, in link order: for each rebuilt crate (`thinPlan.rebuiltCrates`) its
    /// object, or the codegen units `units` selected.
    public var objects: [String]
    /// Which codegen units of each incrementally replayed crate are linked; nil when every
    /// object is (one object per crate).
    public var units: CodegenUnitSelection? = nil
    /// The objects' symbols, parsed once for every link and merged into one table: every object's
    /// definitions, and only the undefined names none of them defines.
    public var objectSymbols: SymbolTable
    /// Change detection, rustc, object symbols, relocate.
    public var phases: [PhaseTiming]
    /// The objects made slide-independent: set when one library serves every process.
    public var relocation: RelocatedObjects? = nil
    /// Why the target supports the shared link but this patch links per device.
    public var sharedLinkFallback: String? = nil
    /// Wall time of the compile half. Not the sum of `phases`: a library crate's rustc runs
    /// in the background while its dependents compile, so phases overlap.
    public var wallMs: Double? = nil
}

/// A patch library linked for one process, its jump table and the plan that describes it.
public struct LinkedPatch: Sendable {
    public var plan: PatchPlan
    public var jumpTable: JumpTable
}

/// Why a patch could not be made, beyond the stages' own errors.
public enum PatcherError: HotpatchError {
    case anchorMissing(binary: String)
    case libraryUnreadable(path: String, reason: String)

    public var code: String {
        switch self {
        case .anchorMissing: "anchor_symbol_missing"
        case .libraryUnreadable: "patch_library_unreadable"
        }
    }

    public var message: String {
        switch self {
        case .anchorMissing(let binary): "the fat binary \(binary) defines no 'main' symbol to compute the ASLR slide from"
        case .libraryUnreadable(let path, let reason): "cannot read the linked patch library \(path): \(reason)"
        }
    }

    public var hint: String? {
        switch self {
        case .anchorMissing: "build a binary crate (not a library) with `whisker-dev build`"
        case .libraryUnreadable: "check the linker output above; the link may have produced no file"
        }
    }
}

/// Makes patches for one project: thin-rebuilds what changed since the last build or patch,
/// writes the stub for a process's slide, links the library and builds the jump table.
///
/// Stages stay separate values (`ObjBuildPlan`, `NeededSymbols`, `LinkPlan`, `JumpTable`), so the
/// CLI runs them in one go and the server can compile once and link per device.
public struct Patcher: Sendable {
    public let layout: ProjectLayout
    public let cache: HotpatchModuleCache
    /// Link one slide-independent library for every process where the target allows it
    /// (x86_64 Linux): statics keep their state and N devices share one link.
    public var sharedLibraries = true
    /// Whether jump tables also carry `entryPatches` (`--entry-patching`): see
    /// ``addingEntryPatches(to:fatSymbols:diff:)``.
    public var entryPatching = false
    let logger: Logger

    public init(layout: ProjectLayout, cache: HotpatchModuleCache? = nil, logger: Logger = Logger(label: "whisker.patcher")) {
        self.layout = layout
        // `WHISKER_LINK_MODE=per-device` forces the per-device link (to compare, or to work around
        // a loader that refuses text relocations).
        sharedLibraries = ProcessInfo.processInfo.environment["WHISKER_LINK_MODE"] != PatchLinkMode.perDevice.rawValue
        self.cache = cache ?? HotpatchModuleCache(directory: layout.cacheDirectory.path)
        self.logger = logger
    }

    /// Compile, link for `aslrReference`, write `plan.json` and `jump-table.json` into the patch
    /// directory, and record the new source fingerprints so the next patch starts from here.
    public func createPatch(
        aslrReference: UInt64, build: FatBuild? = nil, force: Bool = false, cancellation: Cancellation? = nil
    ) throws -> LinkedPatch {
        let compilation = try compile(build: build, force: force, cancellation: cancellation)
        let linked = try link(compilation, aslrReference: aslrReference)
        try JSONFile.writeAtomically(Data(linked.plan.jsonString().utf8), to: compilation.patch.plan)
        try JSONFile.writeAtomically(Data(linked.jumpTable.json().utf8), to: compilation.patch.jumpTable)
        try commit(compilation, libraryPath: linked.plan.library.path)
        return linked
    }

    /// The compile half: change detection and the thin rustc replay into a fresh patch directory.
    /// `patch`: a directory allocated earlier (the server names queued patches); nil allocates one.
    public func compile(
        build: FatBuild? = nil, patch allocated: PatchDirectory? = nil, force: Bool = false,
        extraRustcArguments: [String] = [], cancellation: Cancellation? = nil
    ) throws -> PatchCompilation {
        let clock = ContinuousClock()
        let start = clock.now
        var compilation = try compileHalf(
            build: build, patch: allocated, force: force, extraRustcArguments: extraRustcArguments, cancellation: cancellation)
        compilation.wallMs = (clock.now - start).milliseconds
        return compilation
    }

    private func compileHalf(
        build: FatBuild?, patch allocated: PatchDirectory?, force: Bool, extraRustcArguments: [String], cancellation: Cancellation?
    ) throws -> PatchCompilation {
        let build = try build ?? FatBuild.latest(layout)
        let patch = try allocated ?? layout.allocatePatch()
        let state = try ProjectState.load(layout)
        guard linksShared(build) else {
            return try compileObjects(
                build: build, patch: patch, state: state, force: force, extraRustcArguments: extraRustcArguments,
                cancellation: cancellation)
        }
        let compilation = try compileObjects(
            build: build, patch: patch, state: state, force: force,
            extraRustcArguments: extraRustcArguments + warmUpArguments(build), cancellation: cancellation)
        do {
            return try makeShared(compilation)
        } catch let error as RelocateError {
            // A new thread-local can't live in any library loaded later (the executable's static
            // TLS block is fixed, and the crate's code reaches its thread-locals local-exec).
            if case .newThreadLocal = error { throw error }
            // Rare (a reference no slide-independent form expresses, a new thread-local): rebuild as
            // position-independent code, which a per-device stub can bind.
            logger.warning("patch \(patch.id): \(error.message); linking per device (statics of the edited crate start fresh)")
            var fallback = try compileObjects(
                build: build, patch: patch, state: state, force: true, extraRustcArguments: extraRustcArguments,
                cancellation: cancellation)
            fallback.sharedLinkFallback = error.message
            return fallback
        }
    }

    /// Whether patches of `build` get the shared link (and so the large code model).
    func linksShared(_ build: FatBuild) -> Bool {
        sharedLibraries && StaticsRelocation.isSupported(target: build.target)
    }

    /// Change detection, the thin rustc replay and the objects' symbols.
    func compileObjects(
        build: FatBuild, patch: PatchDirectory, state: ProjectState, force: Bool, extraRustcArguments: [String],
        cancellation: Cancellation?
    ) throws -> PatchCompilation {
        // The warm-up is a baseline only for patches compiled with its flags (not the fallback's).
        let warmUp = codeArguments(extraRustcArguments) == warmUpArguments(build) ? matchingWarmUp(build) : nil
        let thinPlan = try planThinRebuild(
            build: build, state: state, patch: patch, force: force, extraRustcArguments: extraRustcArguments,
            incrementalRoot: layout.build(build.id).thinIncremental,
            reusable: state.latestCompiles(of: build.id, arguments: codeArguments(extraRustcArguments)),
            warmUp: warmUp)
        logger.info("patch \(patch.id): rebuilding \(thinPlan.rebuiltCrates.joined(separator: ", "))", metadata: ["build": "\(build.id)"])
        let thinResult = try runThinRebuild(thinPlan, cancellation: cancellation)
        if !thinResult.skipped.isEmpty {
            logger.info("patch \(patch.id): not replayed (interfaces they use unchanged): \(thinResult.skipped.joined(separator: ", "))")
        }
        let clock = ContinuousClock()
        var phases = thinResult.phases
        var start = clock.now
        let units = try selectCodegenUnits(thinPlan, thinResult, build: build, state: state, warmUp: warmUp)
        if let units {
            phases.append(PhaseTiming(name: "selectUnits", duration: clock.now - start))
            let summary = units.summaries.map { "\($0.captureFile): \($0.linked)/\($0.units) units (\($0.changed) changed)" }
            logger.info("patch \(patch.id): linking \(summary.joined(separator: ", "))")
        }
        start = clock.now
        let objects = units?.objects ?? thinResult.objectPaths
        let objectSymbols = try Self.objectSymbols(objects)
        phases.append(PhaseTiming(name: "objectSymbols", duration: clock.now - start))
        return PatchCompilation(
            build: build, patch: patch, thinPlan: thinPlan, thinResult: thinResult,
            objects: objects, units: units, objectSymbols: objectSymbols, phases: phases)
    }

    /// The relocate stage: the compilation's objects made slide-independent (see
    /// ``makeSlideIndependent(objects:executable:directory:)``).
    func makeShared(_ compilation: PatchCompilation) throws -> PatchCompilation {
        let clock = ContinuousClock()
        let start = clock.now
        let build = compilation.build
        let (fatSymbols, _) = try cache.symbolTable(forBinaryAt: build.binary, architecture: nil, digest: keptBinaryDigest(build))
        var result = compilation
        result.relocation = try Self.makeSlideIndependent(
            objects: compilation.objects, executable: fatSymbols, directory: compilation.patch.root,
            earlierStatics: try PatchStaticsRecord.load(layout, buildId: build.id.rawValue))
        result.phases.append(PhaseTiming(name: "relocate", duration: clock.now - start))
        return result
    }

    /// The link half for one process: stub for its slide, library, jump table, plan.
    /// Each call links a library with a new file name (dlopen caches by path).
    public func link(_ compilation: PatchCompilation, aslrReference: UInt64) throws -> LinkedPatch {
        let clock = ContinuousClock()
        let linkStart = clock.now
        var phases = compilation.phases
        let build = compilation.build
        let patch = compilation.patch

        var start = clock.now
        let (fatSymbols, _) = try cache.symbolTable(forBinaryAt: build.binary, architecture: nil, digest: keptBinaryDigest(build))
        guard let anchor = fatSymbols.definitions(named: "main").first(where: { $0.kind == .function }) ?? fatSymbols.definitions(named: "main").first
        else { throw PatcherError.anchorMissing(binary: build.binary) }
        let slide = ASLRSlide(aslrReference: aslrReference, anchorFileAddress: anchor.address)
        phases.append(PhaseTiming(name: "symbols", duration: clock.now - start))

        // Shared: the relocate stage already bound every executable reference relative to `main`.
        // Per device: a stub of absolute addresses for this slide.
        start = clock.now
        let architecture = StubArchitecture(triple: build.target) ?? StubArchitecture.host ?? .x86_64
        let libraryName = libraryFilename(patchId: patch.id, fileExtension: LinkerOS(triple: build.target)?.libraryExtension ?? "so")
        let objects: [String]
        let stubPath: String?
        let stubSummary: PatchPlan.StubSummary
        var excluded = Set<String>()
        if let relocation = compilation.relocation {
            objects = relocation.objects + relocation.neededLibraries
            stubPath = nil
            stubSummary = .init(
                trampolines: relocation.trampolines, absoluteData: 0,
                boundByLoader: relocation.summary.executableReferences, leftUndefined: 0)
        } else {
            let needed = computeNeededSymbols(undefinedInPatch: compilation.objectSymbols.undefinedNames, fatBinary: fatSymbols)
            let path = patch.root.appendingPathComponent("stub-\(libraryName).o").path
            try StubObject.write(needed, slide: slide, architecture: architecture, to: path)
            objects = compilation.objects
            stubPath = path
            stubSummary = .init(
                trampolines: needed.functions.count, absoluteData: needed.data.count,
                boundByLoader: needed.boundByLoader.count, leftUndefined: needed.leftUndefined.count)
            // The stub's trampolines carry the executable functions' names; they aren't new code.
            excluded = Set(needed.functions.map(\.name))
            phases.append(PhaseTiming(name: "stub", duration: clock.now - start))
        }

        start = clock.now
        let capture = try build.linkerInvocation()
        let libraryPath = patch.library(named: libraryName).path
        var linkPlan = try LinkPlan.make(
            os: LinkerOS(triple: build.target) ?? linkerOSForHost(), linker: capture.linker,
            capturedArguments: capture.arguments, objects: objects, stubObject: stubPath,
            outputPath: libraryPath, architecture: architecture, workingDirectory: capture.workingDirectory)
        if compilation.relocation != nil { linkPlan = linkPlan.addingSharedLibraryFlags() }
        if let relocation = compilation.relocation, let units = compilation.units, !units.roots.isEmpty {
            try LinkPlan.retainRoots(units.roots, inObjects: relocation.objects)
            linkPlan = try linkPlan.keepingOnlyRoots(versionScript: patch.root.appendingPathComponent("exports.map"))
        }
        try linkPlan.run()
        phases.append(PhaseTiming(name: "link", duration: clock.now - start))

        start = clock.now
        let librarySymbols = try SymbolTable(contentsOf: libraryPath)
        let tableBuild = JumpTable.build(
            patchId: patch.id, buildId: build.id.rawValue, libraryPath: libraryPath, slide: slide,
            old: fatSymbols, new: librarySymbols, excluding: excluded)
        phases.append(PhaseTiming(name: "jumpTable", duration: clock.now - start))

        start = clock.now
        let diff = FunctionDiff.patchReport(compilation, layout: layout, fatSymbols: fatSymbols, routed: tableBuild.routed)
        let jumpTable = try addingEntryPatches(to: tableBuild.table, fatSymbols: fatSymbols, diff: diff)
        phases.append(PhaseTiming(name: "functionDiff", duration: clock.now - start))

        // Only its size is needed here: reading a multi-megabyte library into memory for it cost
        // more than the jump table.
        let librarySize: Int
        do {
            librarySize = (try FileManager.default.attributesOfItem(atPath: libraryPath)[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw PatcherError.libraryUnreadable(path: libraryPath, reason: "\(error)")
        }
        let plan = PatchPlan(
            patchId: patch.id,
            buildId: build.id.rawValue,
            project: build.project,
            state: "succeeded",
            cratesRebuilt: compilation.rebuiltCrates,
            changedFiles: compilation.thinPlan.changes.changed.flatMap(\.changedFiles),
            objectPlan: compilation.thinPlan.objectPlan,
            objects: compilation.objects,
            stub: stubSummary,
            library: .init(
                path: libraryPath, size: librarySize,
                sha256: (try? HotpatchModuleCache.sha256(ofFileAt: libraryPath)) ?? "",
                aslrReference: HexAddress.format(aslrReference), linkPlan: linkPlan,
                routedFunctions: tableBuild.table.entries.count,
                linkMode: compilation.relocation == nil ? .perDevice : .shared,
                sharedLinkFallback: compilation.sharedLinkFallback),
            diff: .init(diff),
            statics: compilation.relocation?.summary,
            codegenUnits: compilation.units?.summaries,
            phases: phases,
            durationMs: compilation.wallMs.map { $0 + (clock.now - linkStart).milliseconds } ?? phases.reduce(0) { $0 + $1.durationMs },
            diagnostics: compilation.thinResult.diagnostics,
            createdAt: ISO8601DateFormatter().string(from: Date()))
        logger.info("patch \(patch.id) linked: \(plan.phaseSummary)")
        return LinkedPatch(plan: plan, jumpTable: jumpTable)
    }

    /// The kept fat binary's sha256, memoised beside it: the copy is private to its build and never
    /// rewritten, and hashing 7 MB on every patch costs more than everything else but rustc and
    /// the link.
    public func keptBinaryDigest(_ build: FatBuild) -> String? {
        let memo = build.binary + ".sha256"
        if let text = try? String(contentsOfFile: memo, encoding: .utf8), text.count == 64 { return text }
        guard let digest = try? HotpatchModuleCache.sha256(ofFileAt: build.binary) else { return nil }
        try? JSONFile.writeAtomically(Data(digest.utf8), to: URL(fileURLWithPath: memo))
        return digest
    }

    /// Records the sources the compilation saw as the new baseline, so the next patch rebuilds
    /// only what changes after it.
    /// `libraryPath`: the shared library linked from it, which exports the statics the patch added.
    public func commit(_ compilation: PatchCompilation, libraryPath: String? = nil) throws {
        if let relocation = compilation.relocation, !relocation.exportedStatics.isEmpty, let libraryPath {
            try PatchStaticsRecord.record(
                relocation.exportedStatics, library: libraryPath, layout: layout, buildId: compilation.build.id.rawValue)
        }
        let state = try ProjectState.load(layout)
        try state.recordingThinRebuild(
            compilation.thinPlan, result: compilation.thinResult, build: compilation.build, units: compilation.units).save(layout)
        try DiffBaseline.record(compilation, layout: layout)
    }
}

/// What a compilation needs to be linked again later (another device, a restarted server):
/// the objects stay in the patch directory, so only the plan and paths are stored.
public struct StoredCompilation: Codable, Sendable {
    public var buildId: BuildID
    public var patchId: Int
    public var thinPlan: ThinRebuildPlan
    public var thinResult: ThinBuildResult
    public var objects: [String]
    public var units: CodegenUnitSelection?
    public var phases: [PhaseTiming]
    public var relocation: RelocatedObjects?
    public var sharedLinkFallback: String?
    public var wallMs: Double?

    public init(_ compilation: PatchCompilation) {
        buildId = compilation.build.id
        patchId = compilation.patch.id
        thinPlan = compilation.thinPlan
        thinResult = compilation.thinResult
        objects = compilation.objects
        units = compilation.units
        phases = compilation.phases
        relocation = compilation.relocation
        sharedLinkFallback = compilation.sharedLinkFallback
        wallMs = compilation.wallMs
    }
}

extension PatchCompilation {
    /// The crates whose rustc ran, in order (a step skipped because its libraries kept their
    /// interface is not among them).
    public var rebuiltCrates: [String] {
        let skipped = Set(thinResult.skipped)
        return thinPlan.steps.filter { !skipped.contains($0.captureFile) }.map(\.crateName)
    }
}

extension Patcher {
    /// Rebuilds a `PatchCompilation` from what was stored: the build record and the objects on disk.
    public func restore(_ stored: StoredCompilation) throws -> PatchCompilation {
        let build = try FatBuild.load(layout, id: stored.buildId)
        let objectSymbols = try Self.objectSymbols(stored.objects)
        return PatchCompilation(
            build: build, patch: layout.patch(stored.patchId), thinPlan: stored.thinPlan, thinResult: stored.thinResult,
            objects: stored.objects, units: stored.units, objectSymbols: objectSymbols, phases: stored.phases,
            relocation: stored.relocation, sharedLinkFallback: stored.sharedLinkFallback, wallMs: stored.wallMs)
    }

    /// The symbols of all the patch's objects as one table (``SymbolTable/merging(_:)``): a name one
    /// object references and another defines is not needed from the executable.
    static func objectSymbols(_ objects: [String]) throws -> SymbolTable {
        guard let merged = try SymbolTable.merging(objects.map { try SymbolTable(contentsOf: $0) }) else {
            throw LinkPlanError.noObjects
        }
        return merged
    }
}
