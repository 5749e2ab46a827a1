/// Lets the stub, jump-table and diff stages read a parsed `SymbolTable` directly.
extension SymbolTable: SymbolSource {
    public func definitions(named name: String) -> [SymbolInfo] {
        allIndices(named: name).compactMap { index in
            isDefined(at: index) ? symbolInfo(at: index) : nil
        }
    }

    public func definedFunctions() -> [SymbolInfo] {
        indices.compactMap { index in
            isDefined(at: index) && kind(at: index) == .function ? symbolInfo(at: index) : nil
        }
    }

    /// From the table's secondary index: O(1), no pass over the table once it is built (the
    /// cache persists it per binary).
    public func ltoSuffixedFunctions(named name: String) -> [SymbolInfo] {
        (secondaryIndex.ltoSuffixedByName[name] ?? []).map(symbolInfo(at:))
    }

    /// A binary search of the table's secondary index.
    public func functionStart(after address: UInt64) -> UInt64? {
        secondaryIndex.functionStart(after: address)
    }

    /// The names this file references without defining, each once, in table order.
    public var undefinedNames: [String] {
        var seen = Set<String>()
        return indices.compactMap { index in
            guard !isDefined(at: index), kind(at: index) != .file, kind(at: index) != .section else { return nil }
            let name = name(at: index)
            guard !name.isEmpty, seen.insert(name).inserted else { return nil }
            return name
        }
    }

    /// Entry `index` reduced to what the stages need.
    public func symbolInfo(at index: Int) -> SymbolInfo {
        let kind: SymbolInfo.Kind =
            switch kind(at: index) {
            case .function: .function
            case .data: .data
            case .tls: .threadLocal
            case .section, .file, .other: .other
            }
        let binding: SymbolInfo.Binding =
            switch binding(at: index) {
            case .global: .global
            case .local: .local
            case .weak: .weak
            }
        return SymbolInfo(
            name: name(at: index), address: address(at: index), size: size(at: index), kind: kind,
            binding: binding, isDefined: isDefined(at: index))
    }
}
