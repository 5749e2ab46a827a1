import ObjectFile

/// Per-function change detection: which functions of a crate changed machine code between two
/// builds, which were added or removed, which stayed the same, and which unchanged ones call
/// changed code.
///
/// Each function's bytes are compared with every relocation site masked, together with its list
/// of (offset, type, target): targets by symbol name, or — for anonymous constants and section
/// symbols — by the named symbol covering the referenced offset, the referenced string, or the
/// constant's content digest; never by symbol or section index. ``DiffBaseline`` picks the old
/// objects of a patch (the previous patch's, or the fat build's codegen units).
///
/// The stage is ``DiffReport``'s `make`: ``DiffReport/make(old:new:baseline:)`` for parsed
/// objects, ``DiffReport/make(oldObjects:newObjects:)`` for files (`whisker-dev diff`), and
/// ``DiffReport/make(patch:build:patchId:layout:fatSymbols:routed:)`` for a patch's crates, which
/// the patcher calls. This namespace holds what they share.
public enum FunctionDiff {
    /// The names in `candidates` that reach a function of `targets` through `references`,
    /// directly or through other functions, sorted.
    static func callers(of targets: Set<String>, references: [String: Set<String>], among candidates: Set<String>) -> [String] {
        var referencedBy: [String: [String]] = [:]
        for (name, referenced) in references {
            for target in referenced where references[target] != nil { referencedBy[target, default: []].append(name) }
        }
        var reached: Set<String> = []
        var queue = Array(targets)
        while let next = queue.popLast() {
            for caller in referencedBy[next] ?? [] where !targets.contains(caller) && reached.insert(caller).inserted {
                queue.append(caller)
            }
        }
        return reached.intersection(candidates).sorted()
    }

    /// Whether `path` is a relocatable ELF object (what ``DiffReport/make(oldObjects:newObjects:)``
    /// compares); false for anything unreadable.
    public static func isRelocatableELF(_ path: String) -> Bool {
        guard let file = try? ObjectFile(path: path), let elf = file.elf else { return false }
        return elf.fileType == .relocatable
    }
}

extension DiffReport {
    /// Compares two sets of object functions by name and fingerprint.
    ///
    /// A name is *unchanged* when every fingerprint the new side has for it also occurs on the
    /// old side; *changed* otherwise.
    public static func make(old: ObjectFunctions, new: ObjectFunctions, baseline: String = "") -> DiffReport {
        var changed: [String] = []
        var unchanged: [String] = []
        var added: [String] = []
        for (name, definitions) in new.functions {
            guard let before = old.functions[name] else {
                added.append(name)
                continue
            }
            let oldPrints = Set(before.map(\.fingerprint))
            if definitions.allSatisfy({ oldPrints.contains($0.fingerprint) }) {
                unchanged.append(name)
            } else {
                changed.append(name)
            }
        }
        let removed = old.functions.keys.filter { new.functions[$0] == nil }
        let references = new.functions.mapValues { $0.reduce(into: Set<String>()) { $0.formUnion($1.references) } }
        return DiffReport(
            added: added.sorted(), removed: removed.sorted(), changed: changed.sorted(), unchanged: unchanged.sorted(),
            callsChangedCode: FunctionDiff.callers(of: Set(changed + added), references: references, among: Set(unchanged)),
            baseline: baseline)
    }

    /// Reads and compares two sets of relocatable objects (the old and new objects of one crate).
    public static func make(oldObjects old: [String], newObjects new: [String]) throws(FunctionDiffError) -> DiffReport {
        make(
            old: try ObjectFunctions(objects: old), new: try ObjectFunctions(objects: new),
            baseline: "objects " + old.joined(separator: " "))
    }
}
