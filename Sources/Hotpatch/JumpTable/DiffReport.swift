/// How the functions of two builds differ by name: added, removed and kept.
///
/// Names are raw symbol names, sorted, each listed once however many copies a binary holds.
/// Rendering takes a display-name function so callers can show demangled names.
public struct DiffReport: Sendable, Hashable {
    /// Functions only the new side defines.
    public var added: [String]
    /// Functions only the old side defines.
    public var removed: [String]
    /// Functions both sides define (whether or not their code changed).
    public var kept: [String]

    public init(added: [String], removed: [String], kept: [String]) {
        self.added = added
        self.removed = removed
        self.kept = kept
    }

    /// Compares the defined functions of `old` and `new` by name.
    public init(old: some SymbolSource, new: some SymbolSource) {
        self.init(oldFunctions: old.definedFunctions(), newFunctions: new.definedFunctions())
    }

    /// Compares two lists of symbols by name; entries that aren't defined functions are ignored.
    public init(oldFunctions: [SymbolInfo], newFunctions: [SymbolInfo]) {
        let oldNames = Self.functionNames(oldFunctions)
        let newNames = Self.functionNames(newFunctions)
        added = newNames.subtracting(oldNames).sorted()
        removed = oldNames.subtracting(newNames).sorted()
        kept = oldNames.intersection(newNames).sorted()
    }

    private static func functionNames(_ symbols: [SymbolInfo]) -> Set<String> {
        Set(symbols.lazy.filter { $0.isDefined && $0.kind == .function && !$0.name.isEmpty }.map(\.name))
    }

    public var addedCount: Int { added.count }
    public var removedCount: Int { removed.count }
    public var keptCount: Int { kept.count }

    /// One line: "2 functions added, 1 removed, 40 kept".
    public var summary: String {
        "\(addedCount) function\(addedCount == 1 ? "" : "s") added, \(removedCount) removed, \(keptCount) kept"
    }
}
