/// Read access to one binary's symbols, by name and as a list of functions.
///
/// The stub, jump-table and diff stages are written against this protocol, so any symbol reader
/// can feed them: ``SymbolList`` wraps an array, and the pipeline's `SymbolTable` conforms with a
/// two-method extension.
public protocol SymbolSource {
    /// Every symbol named `name` that this file defines (usually one; local symbols of different
    /// translation units or codegen units may share a name).
    func definitions(named name: String) -> [SymbolInfo]

    /// Every function symbol this file defines, in any order.
    func definedFunctions() -> [SymbolInfo]

    /// The functions this file defines under `name` plus a ThinLTO suffix (`name.llvm.<digits>`;
    /// any name containing `.llvm.` whose ``JumpTable/withoutLTOSuffix(_:)`` is `name`).
    func ltoSuffixedFunctions(named name: String) -> [SymbolInfo]

    /// The lowest address of a function this file defines that is above `address`.
    func functionStart(after address: UInt64) -> UInt64?
}

extension SymbolSource {
    /// A pass over ``definedFunctions()``; `SymbolTable` answers from its precomputed index.
    public func ltoSuffixedFunctions(named name: String) -> [SymbolInfo] {
        definedFunctions().filter { $0.name.contains(".llvm.") && JumpTable.withoutLTOSuffix($0.name) == name }
    }

    /// A pass over ``definedFunctions()``; `SymbolTable` answers from its precomputed index.
    public func functionStart(after address: UInt64) -> UInt64? {
        definedFunctions().lazy.map(\.address).filter { $0 > address }.min()
    }
}

/// A ``SymbolSource`` over an array of symbols, indexed by name once.
public struct SymbolList: SymbolSource, Sendable {
    public let symbols: [SymbolInfo]
    private let definedByName: [String: [SymbolInfo]]

    public init(_ symbols: [SymbolInfo]) {
        self.symbols = symbols
        var index: [String: [SymbolInfo]] = [:]
        for symbol in symbols where symbol.isDefined {
            index[symbol.name, default: []].append(symbol)
        }
        definedByName = index
    }

    public func definitions(named name: String) -> [SymbolInfo] {
        definedByName[name] ?? []
    }

    public func definedFunctions() -> [SymbolInfo] {
        symbols.filter { $0.isDefined && $0.kind == .function }
    }

    /// The names this list references without defining (what a patch object needs from elsewhere).
    public var undefinedNames: [String] {
        var seen = Set<String>()
        return symbols.compactMap { symbol in
            guard !symbol.isDefined, !symbol.name.isEmpty, seen.insert(symbol.name).inserted else { return nil }
            return symbol.name
        }
    }
}
