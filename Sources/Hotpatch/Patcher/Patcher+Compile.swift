import Foundation

/// The compile half: the stages that run before any process's slide is known.
extension Patcher {
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
        // What only a fat build can change is refused before anything compiles.
        if state.lastBuildId == build.id, let changes = state.buildInputs?.changes(), !changes.isEmpty {
            try refuse(changes, patch: patch)
        }
        guard linksShared(build) else {
            var compilation = try compileObjects(
                build: build, patch: patch, state: state, force: force, extraRustcArguments: extraRustcArguments,
                cancellation: cancellation)
            try refuse(unpatchableLayouts(&compilation), patch: patch)
            return compilation
        }
        var compilation = try compileObjects(
            build: build, patch: patch, state: state, force: force,
            extraRustcArguments: extraRustcArguments + warmUpArguments(build), cancellation: cancellation)
        let layouts = unpatchableLayouts(&compilation)
        do {
            let shared = try makeShared(compilation)
            try refuse(layouts + unpatchableStatics(shared), patch: patch)
            return shared
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

    /// Change detection, the thin rustc replay, the codegen units to link and the objects' symbols.
    func compileObjects(
        build: FatBuild, patch: PatchDirectory, state: ProjectState, force: Bool, extraRustcArguments: [String],
        cancellation: Cancellation?
    ) throws -> PatchCompilation {
        // The warm-up is a baseline only for patches compiled with its flags (not the fallback's).
        let codeArguments = ObjBuildPlan.codeArguments(extraRustcArguments)
        let warmUpFlags = warmUpArguments(build)
        let warmUp = codeArguments == warmUpFlags ? WarmUp.directory(of: build, layout: layout, flags: warmUpFlags) : nil
        let thinPlan = try ThinRebuildPlan.make(
            build: build, state: state, patch: patch, force: force, extraRustcArguments: extraRustcArguments,
            incrementalRoot: layout.build(build.id).thinIncremental,
            reusable: state.latestCompiles(of: build.id, arguments: codeArguments),
            warmUp: warmUp)
        logger.info("patch \(patch.id): rebuilding \(thinPlan.rebuiltCrates.joined(separator: ", "))", metadata: ["build": "\(build.id)"])
        let thinResult = try ThinBuildResult.run(thinPlan, cancellation: cancellation)
        if !thinResult.skipped.isEmpty {
            logger.info("patch \(patch.id): not replayed (interfaces they use unchanged): \(thinResult.skipped.joined(separator: ", "))")
        }
        let clock = ContinuousClock()
        var phases = thinResult.phases
        var start = clock.now
        let units = try CodegenUnitSelection.make(
            plan: thinPlan, result: thinResult, build: build, previouslyLinked: state.linkedUnits(of: build.id),
            warmUp: warmUp, cache: cache)
        if let units {
            phases.append(PhaseTiming(name: "selectUnits", duration: clock.now - start))
            let summary = units.summaries.map { "\($0.captureFile): \($0.linked)/\($0.units) units (\($0.changed) changed)" }
            logger.info("patch \(patch.id): linking \(summary.joined(separator: ", "))")
        }
        start = clock.now
        let objects = units?.objects ?? thinResult.objectPaths
        let objectSymbols = try SymbolTable.make(mergingObjectsAt: objects)
        phases.append(PhaseTiming(name: "objectSymbols", duration: clock.now - start))
        return PatchCompilation(
            build: build, patch: patch, thinPlan: thinPlan, thinResult: thinResult,
            objects: objects, units: units, objectSymbols: objectSymbols, phases: phases)
    }

    /// The relocate stage (``RelocatedObjects/make(objects:executable:directory:earlierStatics:)``)
    /// on the compilation's objects, bound to the statics earlier patches of the build added.
    func makeShared(_ compilation: PatchCompilation) throws -> PatchCompilation {
        let clock = ContinuousClock()
        let start = clock.now
        let build = compilation.build
        let fatSymbols = try fatSymbols(build)
        var result = compilation
        result.relocation = try RelocatedObjects.make(
            objects: compilation.objects, executable: fatSymbols, directory: compilation.patch.root,
            earlierStatics: try PatchStaticsRecord.load(layout, buildId: build.id.rawValue))
        result.phases.append(PhaseTiming(name: "relocate", duration: clock.now - start))
        return result
    }
}
