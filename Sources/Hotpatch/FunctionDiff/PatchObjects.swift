/// A patch's new objects, crate by crate: the per-function diff's input (what it compares with
/// each crate's baseline), and what the next patch's baseline records. The patcher builds it from
/// its compilation; the diff needs nothing else of it.
public struct PatchObjects: Sendable {
    /// The binary crate (the thin rebuild plan's tip).
    public var tipCrate: String
    /// The tip's extra rustc flags: the fat build's own objects are a baseline only when none of
    /// them changes code.
    public var tipExtraArguments: [String]
    /// What each replayed (or reused) crate compiled, dependencies first; empty for a plan stored
    /// before workspace libraries could be rebuilt (the tip alone, `linked`).
    public var crates: [CrateBuildResult]
    /// The objects linked, in link order.
    public var linked: [String]
    /// Which codegen units of each crate are linked; nil when every object is.
    public var units: CodegenUnitSelection?
    /// The linked objects' symbols, merged: the new side of a names-only comparison.
    public var symbols: SymbolTable

    public init(
        tipCrate: String, tipExtraArguments: [String], crates: [CrateBuildResult], linked: [String],
        units: CodegenUnitSelection?, symbols: SymbolTable
    ) {
        self.tipCrate = tipCrate
        self.tipExtraArguments = tipExtraArguments
        self.crates = crates
        self.linked = linked
        self.units = units
        self.symbols = symbols
    }

    /// Crate name → every object the thin rebuild wrote for it (all codegen units: the next patch
    /// compares the units it links with these; the tip's alone for a compilation stored before
    /// workspace libraries could be rebuilt).
    var objectsByCrate: [String: [String]] {
        guard !crates.isEmpty else { return [tipCrate: linked] }
        return Dictionary(crates.map { ($0.crateName, $0.objectPaths) }, uniquingKeysWith: +)
    }

    /// The linked objects of one rebuilt crate.
    func objects(of crate: String) -> [String] {
        guard let units else { return objectsByCrate[crate] ?? [] }
        let files = Set(crates.filter { $0.crateName == crate }.map(\.captureFile))
        return units.crates.filter { files.contains($0.captureFile) }.flatMap(\.objects)
    }

    /// The codegen units linked of one crate name (nil: every object is linked).
    func linkedUnits(of crate: String) -> Set<String>? {
        guard let units else { return nil }
        let files = Set(crates.filter { $0.crateName == crate }.map(\.captureFile))
        return Set(units.crates.filter { files.contains($0.captureFile) }.flatMap(\.linked))
    }
}
