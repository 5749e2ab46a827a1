extension DiffReport {
    /// The per-function diff stage for a patch: each rebuilt crate's new objects (`patch`) against
    /// the baseline ``DiffBaseline/make(crate:patch:build:patchId:layout:)`` picks for it, merged,
    /// with the reason for every name the jump table routes (`routed`: ``JumpTableBuild/routed``). The tip crate is compared
    /// exactly whenever the fat build's objects are available; a rebuilt workspace library is
    /// compared exactly against an earlier patch's object of it, else by name.
    ///
    /// Never fails the patch: unreadable baseline objects fall back to a names-only comparison
    /// against the fat binary, and the report's `baseline` says so.
    public static func make(
        patch: PatchObjects, build: FatBuild, patchId: Int, layout: ProjectLayout, fatSymbols: SymbolTable, routed: [String]
    ) -> DiffReport {
        let crates = patch.crates.isEmpty ? [patch.tipCrate] : patch.crates.map(\.crateName)
        let reports = crates.map { crate in
            var report = crateReport(
                patch, crate: crate, build: build, patchId: patchId, layout: layout, fatSymbols: fatSymbols)
            if crates.count > 1 { report.baseline = "\(crate): \(report.baseline)" }
            return report
        }
        return merged(reports).routing(routed)
    }

    static func crateReport(
        _ patch: PatchObjects, crate: String, build: FatBuild, patchId: Int, layout: ProjectLayout, fatSymbols: SymbolTable
    ) -> DiffReport {
        let baseline = DiffBaseline.make(crate: crate, patch: patch, build: build, patchId: patchId, layout: layout)
        var report: DiffReport
        if baseline.source == .fatBinaryNames {
            report = crateNames(patch, crate: crate, fatSymbols: fatSymbols)
            report.baseline = baseline.description
        } else {
            // Only the linked units differ from the running code (or were linked before): compare
            // those, old and new, so the diff costs what the edit costs.
            var old = baseline.objects
            if let linked = patch.linkedUnits(of: crate) { old = old.filter { linked.contains(CodegenUnitSelection.unitName(ofObject: $0)) } }
            do {
                report = make(
                    old: try ObjectFunctions.reading(objects: old), new: try ObjectFunctions.reading(objects: patch.objects(of: crate)),
                    baseline: baseline.description)
            } catch {
                report = crateNames(patch, crate: crate, fatSymbols: fatSymbols)
                report.baseline = "fat binary \(build.binary) (names only: \(baseline.description) unreadable: \(error.message))"
            }
        }
        return report
    }

    /// One report for several crates: lists joined, code compared only when it was for every
    /// crate, baselines joined as `<crate>: <baseline>` when there is more than one crate.
    static func merged(_ reports: [DiffReport]) -> DiffReport {
        guard reports.count > 1, var result = reports.first else { return reports.first ?? DiffReport(added: [], removed: [], kept: []) }
        func union(_ lists: [[String]]) -> [String] { Array(Set(lists.joined())).sorted() }
        result.added = union(reports.map(\.added))
        result.removed = union(reports.map(\.removed))
        result.changed = union(reports.map(\.changed))
        result.unchanged = union(reports.map(\.unchanged))
        result.kept = union(reports.map(\.kept))
        result.callsChangedCode = union(reports.map(\.callsChangedCode))
        result.codeCompared = reports.allSatisfy(\.codeCompared)
        result.baseline = reports.map(\.baseline).joined(separator: "; ")
        return result
    }

    /// Names-only: the rebuilt crate's functions in the fat binary against its patch object's.
    /// Only the crate's own functions count: the fat binary also holds every dependency.
    static func crateNames(_ patch: PatchObjects, crate: String, fatSymbols: SymbolTable) -> DiffReport {
        DiffReport(
            oldFunctions: FunctionDiff.functions(of: crate, in: fatSymbols),
            newFunctions: FunctionDiff.functions(of: crate, in: patch.symbols))
    }
}

extension FunctionDiff {
    /// The defined functions of `table` that belong to `crate` (demangled name `crate::…` or
    /// `<crate::…`). Still one pass over the table — the fat binary has no per-crate index — but
    /// a byte search of each name first, so only the crate's own symbols become `SymbolInfo`s
    /// and get demangled (demangling every symbol of the fat binary costs ~100 ms).
    static func functions(of crate: String, in table: SymbolTable) -> [SymbolInfo] {
        let needle = Array(crate.utf8)
        return table.indices.compactMap { index in
            guard table.isDefined(at: index), table.kind(at: index) == .function,
                  table.withNameBytes(at: index, { contains($0, needle) })
            else { return nil }
            let info = table.symbolInfo(at: index)
            let display = RustDemangler.demangle(info.name) ?? info.name
            return display.hasPrefix("\(crate)::") || display.hasPrefix("<\(crate)::") ? info : nil
        }
    }

    /// Whether `haystack` contains the bytes of `needle` (a superset of `String.contains`, whose
    /// matches the demangled-prefix test then confirms).
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count, let first = needle.first else { return false }
        var start = 0
        let last = haystack.count - needle.count
        while start <= last {
            if haystack[start] == first {
                var matched = 1
                while matched < needle.count, haystack[start + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return true }
            }
            start += 1
        }
        return false
    }
}
