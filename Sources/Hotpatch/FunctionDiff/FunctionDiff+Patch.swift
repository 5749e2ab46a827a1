extension FunctionDiff {
    /// The DiffReport of a patch: the rebuilt crate's new objects against the baseline
    /// ``DiffBaseline/choose(for:layout:)`` picks, with the reason for every name the jump table
    /// routes (`routed`: ``JumpTableBuild/routed``).
    ///
    /// Never fails the patch: unreadable baseline objects fall back to a names-only comparison
    /// against the fat binary, and the report's `baseline` says so.
    public static func patchReport(
        _ compilation: PatchCompilation, layout: ProjectLayout, fatSymbols: SymbolTable, routed: [String]
    ) -> DiffReport {
        let baseline = DiffBaseline.choose(for: compilation, layout: layout)
        var report: DiffReport
        if baseline.source == .fatBinaryNames {
            report = crateNames(compilation, fatSymbols: fatSymbols)
            report.baseline = baseline.description
        } else {
            do {
                report = compare(
                    old: try ObjectFunctions(objects: baseline.objects), new: try ObjectFunctions(objects: compilation.objects),
                    baseline: baseline.description)
            } catch {
                report = crateNames(compilation, fatSymbols: fatSymbols)
                report.baseline = "fat binary \(compilation.build.binary) (names only: \(baseline.description) unreadable: \(error.message))"
            }
        }
        return report.routing(routed)
    }

    /// Names-only: the rebuilt crate's functions in the fat binary against the patch object's.
    /// Only the crate's own functions count: the fat binary also holds every dependency.
    static func crateNames(_ compilation: PatchCompilation, fatSymbols: SymbolTable) -> DiffReport {
        let crate = compilation.thinPlan.crateName
        func belongsToCrate(_ info: SymbolInfo) -> Bool {
            // Cheap byte test first: demangling every symbol of the fat binary costs ~100 ms.
            guard info.name.contains(crate) else { return false }
            let display = RustDemangler.demangle(info.name) ?? info.name
            return display.hasPrefix("\(crate)::") || display.hasPrefix("<\(crate)::")
        }
        return DiffReport(
            oldFunctions: fatSymbols.definedFunctions().filter(belongsToCrate),
            newFunctions: compilation.objectSymbols.definedFunctions().filter(belongsToCrate))
    }
}
