import Foundation

/// Who references and defines what across one crate's codegen units, built once per warm-up
/// and reused by every patch of the build: a patch changes a few of a crate's hundreds of units,
/// so it overlays just those on the warm-up's index instead of indexing every unit again.
struct CodegenUnitIndex: Sendable {
    /// A function referencing a name: the function and the unit holding it.
    struct Referrer: Sendable {
        var function: String
        var unit: String
    }

    /// name → functions that reference it.
    var functionReferrers: [String: [Referrer]] = [:]
    /// name → units whose data (not a function) references it.
    var dataReferrers: [String: [String]] = [:]
    /// function → units defining it.
    var unitsOfFunction: [String: [String]] = [:]
    /// name → units defining it for other objects.
    var definers: [String: [String]] = [:]

    init(_ units: [String: UnitSymbols]) {
        for (unit, symbols) in units { add(unit, symbols) }
    }

    mutating func add(_ unit: String, _ symbols: UnitSymbols) {
        for (name, function) in symbols.functions {
            unitsOfFunction[name, default: []].append(unit)
            for reference in function.references {
                functionReferrers[reference, default: []].append(Referrer(function: name, unit: unit))
            }
        }
        for name in symbols.dataReferences { dataReferrers[name, default: []].append(unit) }
        for name in symbols.defines { definers[name, default: []].append(unit) }
    }
}

/// The warm-up's index under a patch's changed units: lookups skip what the replaced units said
/// in the warm-up and add what they say now.
struct OverlaidUnitIndex {
    let base: CodegenUnitIndex
    /// Units whose warm-up entries no longer hold: changed, new or gone.
    let replaced: Set<String>
    /// The changed and new units, indexed.
    let overlay: CodegenUnitIndex

    func functionReferrers(of name: String) -> [CodegenUnitIndex.Referrer] {
        (base.functionReferrers[name] ?? []).filter { !replaced.contains($0.unit) } + (overlay.functionReferrers[name] ?? [])
    }

    func dataReferrers(of name: String) -> [String] {
        (base.dataReferrers[name] ?? []).filter { !replaced.contains($0) } + (overlay.dataReferrers[name] ?? [])
    }

    func units(ofFunction name: String) -> [String] {
        (base.unitsOfFunction[name] ?? []).filter { !replaced.contains($0) } + (overlay.unitsOfFunction[name] ?? [])
    }

    func definer(of name: String) -> String? {
        overlay.definers[name]?.first ?? base.definers[name]?.first { !replaced.contains($0) }
    }
}

extension CodegenUnitIndex {
    /// Warm-up indexes by the warm-up objects they cover (the objects never change once written).
    private static let cache = Locked<[String: CodegenUnitIndex]>([:])

    /// The index of a warm-up's units (`baseline`: unit → object), cached per object set.
    static func warmUp(_ baseline: [String: String]) throws -> CodegenUnitIndex {
        let key = baseline.values.sorted().joined(separator: "\n")
        if let hit = cache.withLock({ $0[key] }) { return hit }
        var units: [String: UnitSymbols] = [:]
        for (unit, path) in baseline { units[unit] = try UnitSymbols.load(path, cached: true) }
        let index = CodegenUnitIndex(units)
        cache.withLock { cache in
            // A long-running server sees one warm-up per build and crate: keep the recent ones.
            if cache.count >= 32 { cache.removeAll() }
            cache[key] = index
        }
        return index
    }

    /// Forgets the cached indexes of warm-up objects under `directory`.
    static func forget(under directory: String) {
        cache.withLock { cache in cache = cache.filter { !$0.key.hasPrefix(directory) } }
    }
}
