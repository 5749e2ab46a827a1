/// How the functions of two builds differ: changed, added, removed and unchanged ones, which
/// unchanged ones call changed code, and (for a patch) which entries the jump table routes and why.
///
/// Names are raw symbol names, sorted, each listed once however many copies a binary holds.
/// With `codeCompared` false (two linked binaries, compared by name only) `changed` and
/// `unchanged` are empty and `kept` lists the functions both sides define. Rendering takes a
/// display-name function so callers can show demangled names.
public struct DiffReport: Sendable, Hashable {
    /// Functions only the new side defines.
    public var added: [String]
    /// Functions only the old side defines.
    public var removed: [String]
    /// Functions both sides define whose machine code or relocation targets differ.
    public var changed: [String]
    /// Functions both sides define with the same machine code and targets.
    public var unchanged: [String]
    /// Functions both sides define: `changed` + `unchanged` when code was compared.
    public var kept: [String]
    /// Whether machine code was compared (false: names only).
    public var codeCompared: Bool
    /// Unchanged functions that reach changed or added code through calls or references
    /// (transitively), from the new side's relocations.
    public var callsChangedCode: [String]
    /// What the old side was: `objects <paths>`, `binary <path>`, or empty for names only.
    public var baseline: String
    /// The jump table's entries with the reason each is routed; empty until ``routing(_:)``.
    public var routed: [RoutedFunction]

    /// A names-only report (code not compared).
    public init(added: [String], removed: [String], kept: [String]) {
        self.added = added
        self.removed = removed
        self.kept = kept
        changed = []
        unchanged = []
        codeCompared = false
        callsChangedCode = []
        baseline = ""
        routed = []
    }

    /// A report whose code was compared; `kept` is `changed` + `unchanged`.
    public init(
        added: [String], removed: [String], changed: [String], unchanged: [String], callsChangedCode: [String] = [],
        baseline: String = "", routed: [RoutedFunction] = []
    ) {
        self.added = added
        self.removed = removed
        self.changed = changed
        self.unchanged = unchanged
        kept = (changed + unchanged).sorted()
        codeCompared = true
        self.callsChangedCode = callsChangedCode
        self.baseline = baseline
        self.routed = routed
    }

    /// Compares the defined functions of `old` and `new` by name (code not compared).
    public init(old: some SymbolSource, new: some SymbolSource) {
        self.init(oldFunctions: old.definedFunctions(), newFunctions: new.definedFunctions())
    }

    /// Compares two lists of symbols by name; entries that aren't defined functions are ignored.
    public init(oldFunctions: [SymbolInfo], newFunctions: [SymbolInfo]) {
        let oldNames = Self.functionNames(oldFunctions)
        let newNames = Self.functionNames(newFunctions)
        self.init(
            added: newNames.subtracting(oldNames).sorted(), removed: oldNames.subtracting(newNames).sorted(),
            kept: oldNames.intersection(newNames).sorted())
    }

    private static func functionNames(_ symbols: [SymbolInfo]) -> Set<String> {
        Set(symbols.lazy.filter { $0.isDefined && $0.kind == .function && !$0.name.isEmpty }.map(\.name))
    }

    public var addedCount: Int { added.count }
    public var removedCount: Int { removed.count }
    public var changedCount: Int { changed.count }
    public var unchangedCount: Int { unchanged.count }
    public var keptCount: Int { kept.count }

    /// One line: "3 functions changed, 1 added" — zero parts left out, "no functions changed"
    /// when nothing differs; a names-only report adds "40 kept (code not compared)".
    public var summary: String {
        var parts: [(count: Int, label: String)] = []
        if changedCount > 0 { parts.append((changedCount, "changed")) }
        if addedCount > 0 { parts.append((addedCount, "added")) }
        if removedCount > 0 { parts.append((removedCount, "removed")) }
        if !codeCompared, keptCount > 0 { parts.append((keptCount, "kept (code not compared)")) }
        guard let first = parts.first else { return "no functions changed" }
        let head = "\(first.count) function\(first.count == 1 ? "" : "s") \(first.label)"
        return ([head] + parts.dropFirst().map { "\($0.count) \($0.label)" }).joined(separator: ", ")
    }
}
