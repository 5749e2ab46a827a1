import Foundation

/// The link half: the stages that run once per process slide (or once for a shared link).
extension Patcher {
    /// The link half for one process: stub for its slide, library, jump table, plan.
    /// Each call links a library with a new file name (dlopen caches by path).
    public func link(_ compilation: PatchCompilation, aslrReference: UInt64) throws -> LinkedPatch {
        let clock = ContinuousClock()
        let linkStart = clock.now
        var phases = compilation.phases
        let build = compilation.build
        let patch = compilation.patch

        var start = clock.now
        let fatSymbols = try fatSymbols(build)
        guard let anchor = fatSymbols.definitions(named: "main").first(where: { $0.kind == .function }) ?? fatSymbols.definitions(named: "main").first
        else { throw PatcherError.anchorMissing(binary: build.binary) }
        let slide = ASLRSlide(aslrReference: aslrReference, anchorFileAddress: anchor.address)
        phases.append(PhaseTiming(name: "symbols", duration: clock.now - start))

        // Shared: the relocate stage already bound every executable reference relative to `main`.
        // Per device: a stub of absolute addresses for this slide.
        start = clock.now
        let architecture = StubArchitecture(triple: build.target) ?? StubArchitecture.host ?? .x86_64
        let libraryName = PatchDirectory.libraryFilename(
            patchId: patch.id, fileExtension: LinkerOS(triple: build.target)?.libraryExtension ?? "so")
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
            let needed = NeededSymbols.make(undefinedInPatch: compilation.objectSymbols.undefinedNames, fatBinary: fatSymbols)
            let path = patch.root.appendingPathComponent("stub-\(libraryName).o").path
            try StubObject.make(needed: needed, slide: slide, architecture: architecture, path: path)
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
            os: LinkerOS(triple: build.target) ?? LinkerOS.host, linker: capture.linker,
            capturedArguments: capture.arguments, objects: objects, stubObject: stubPath,
            outputPath: libraryPath, architecture: architecture, workingDirectory: capture.workingDirectory)
        if compilation.relocation != nil { linkPlan = linkPlan.addingSharedLibraryFlags(target: build.target) }
        if let relocation = compilation.relocation, let units = compilation.units, !units.roots.isEmpty {
            try LinkPlan.retainRoots(units.roots, inObjects: relocation.objects)
            linkPlan = try linkPlan.keepingOnlyRoots(versionScript: patch.root.appendingPathComponent("exports.map"))
        }
        linkPlan = try runLink(linkPlan, inputs: objects + (stubPath.map { [$0] } ?? []), build: build, patchId: patch.id)
        phases.append(PhaseTiming(name: "link", duration: clock.now - start))

        start = clock.now
        let librarySymbols = try SymbolTable.make(contentsOf: libraryPath)
        let tableBuild = JumpTableBuild.make(
            patchId: patch.id, buildId: build.id.rawValue, libraryPath: libraryPath, slide: slide,
            old: fatSymbols, new: librarySymbols, excluding: excluded)
        phases.append(PhaseTiming(name: "jumpTable", duration: clock.now - start))

        start = clock.now
        let diff = DiffReport.make(
            patch: compilation.patchObjects, build: build, patchId: patch.id, layout: layout, fatSymbols: fatSymbols,
            routed: tableBuild.routed)
        let jumpTable = try addingEntryPatches(to: tableBuild.table, fatSymbols: fatSymbols, diff: diff)
        phases.append(PhaseTiming(name: "functionDiff", duration: clock.now - start))

        // Only its size is needed here: reading a multi-megabyte library into memory for it cost
        // more than the jump table.
        let librarySize: Int
        // Devices verify the library against this digest: a patch without one is no patch.
        let librarySha256: String
        do {
            librarySize = (try FileManager.default.attributesOfItem(atPath: libraryPath)[.size] as? NSNumber)?.intValue ?? 0
            librarySha256 = try HotpatchModuleCache.sha256(ofFileAt: libraryPath)
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
                sha256: librarySha256,
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

    /// Links `plan`, calling the linker directly where the driver can be emulated
    /// (``LinkPlan/direct(inputs:templates:)``; `WHISKER_DIRECT_LINK=0` turns it off); the plan
    /// that ran. A direct link that fails links again through the driver (and forgets the
    /// template), so a driver the emulation gets wrong costs time, never the patch.
    func runLink(_ plan: LinkPlan, inputs: [String], build: FatBuild, patchId: Int) throws -> LinkPlan {
        let templates = DirectLinkTemplate.directory(of: build, layout: layout)
        guard ProcessInfo.processInfo.environment["WHISKER_DIRECT_LINK"] != "0",
              let direct = plan.direct(inputs: inputs, templates: templates) else {
            try LinkOutcome.run(plan)
            return plan
        }
        do {
            try LinkOutcome.run(direct)
            return direct
        } catch {
            logger.warning("patch \(patchId): the direct link failed, linking through \(plan.linker): \(error)")
            plan.forgetDirect(inputs: inputs, templates: templates)
            try LinkOutcome.run(plan)
            return plan
        }
    }

    /// The table with ``JumpTable/entryPatches`` filled (``EntryPatches``) when ``entryPatching``
    /// is on; the table unchanged otherwise. Called by ``link(_:aslrReference:)`` once the jump
    /// table and the per-function diff exist.
    public func addingEntryPatches(to table: JumpTable, fatSymbols: some SymbolSource, diff: DiffReport) throws -> JumpTable {
        guard entryPatching else { return table }
        var patched = table
        patched.entryPatches = try EntryPatches.make(table: table, fatSymbols: fatSymbols, diff: diff, layout: layout).patches
        return patched
    }
}
