import Foundation

/// The entry-patching stage (`--entry-patching`): for every function whose machine code changed,
/// the old copies' first bytes to overwrite with a jump to the patch's code, so every caller runs
/// the new code, not only `whisker_hot::call` sites (``JumpTable/entryPatches``).
public struct EntryPatches: Sendable, Equatable {
    /// Sorted by old address.
    public var patches: [JumpTable.EntryPatch]

    public init(patches: [JumpTable.EntryPatch]) {
        self.patches = patches
    }

    /// The entry patches of `table` for the functions `diff` found changed, and for every function
    /// an earlier patch of the same build entry-patched (the project store's `entry-patched`
    /// record in `layout`, which this adds the new names to).
    ///
    /// Those earlier ones are listed again: their old entries still jump into that earlier library,
    /// whose copies call *its* versions of everything, so they must move to this patch's code even
    /// when this edit didn't touch them.
    public static func make(
        table: JumpTable, fatSymbols: some SymbolSource, diff: DiffReport, layout: ProjectLayout
    ) throws -> EntryPatches {
        let record = try EntryPatchedFunctions.load(layout, buildId: table.buildId)
        let names = record.union(diff.changed)
        let result = make(table: table, fatSymbols: fatSymbols, changed: Array(names))
        if names != record { try EntryPatchedFunctions.save(names, layout: layout, buildId: table.buildId) }
        return result
    }

    /// One entry patch per old copy of every function whose machine code changed.
    ///
    /// Only `changed` names qualify — never those the table routes because they call changed code
    /// or conservatively: their old code is still right for every caller that is not routed, and
    /// rewriting it would only widen the window in which a thread can meet a half-written entry.
    /// Old address and size come from the fat binary by name (every copy of a Rust instantiation
    /// emitted into several codegen units); the new address is the one the table already routes
    /// that old address to, so a changed function the table does not route (ambiguous C names)
    /// is not entry-patched either.
    ///
    /// - Parameters:
    ///   - table: the patch's jump table (``JumpTableBuild/make(patchId:buildId:libraryPath:slide:old:new:excluding:)``).
    ///   - fatSymbols: the fat binary's symbols (file addresses, `st_size`s).
    ///   - changed: raw symbol names whose code changed (``DiffReport/changed``).
    public static func make(table: JumpTable, fatSymbols: some SymbolSource, changed: [String]) -> EntryPatches {
        let routedTo = Dictionary(table.entries.map { ($0.oldFileAddress, $0.newAddress) }, uniquingKeysWith: { first, _ in first })
        var patches: [UInt64: JumpTable.EntryPatch] = [:]
        for name in Set(changed) {
            let olds: [SymbolInfo]
            // Release builds: ThinLTO names the old copy `name.llvm.<digits>` (see JumpTableBuild.make).
            // Both lookups are by name: the cost follows the edit, not the binary.
            let candidates = fatSymbols.definitions(named: name).filter { $0.kind == .function }
                + fatSymbols.ltoSuffixedFunctions(named: name)
            switch SymbolResolution.resolve(candidates) {
            case .unique(let symbol): olds = [symbol]
            case .copies(let copies): olds = copies
            case .none, .ambiguous: continue
            }
            for old in olds {
                guard let newAddress = routedTo[old.address], patches[old.address] == nil else { continue }
                patches[old.address] = JumpTable.EntryPatch(
                    oldFileAddress: old.address, newAddress: newAddress, oldSize: writableSize(of: old, nextFunctionStart: fatSymbols.functionStart(after: old.address)))
            }
        }
        return EntryPatches(patches: patches.values.sorted { $0.oldFileAddress < $1.oldFileAddress })
    }

    /// The bytes a jump may cover at `function`'s start: the function and the alignment padding
    /// after it (the linker fills it with `int3`; nothing runs there), up to the next function
    /// symbol, at most 64 bytes past its end. Most getters are shorter than a 14-byte jump but sit
    /// in a 16-byte slot. Without a following symbol (the section's last function), `st_size`.
    static func writableSize(of function: SymbolInfo, nextFunctionStart: UInt64?) -> UInt64 {
        guard let next = nextFunctionStart else { return function.size }
        let gap = next - function.address
        return gap >= function.size && gap - function.size <= 64 ? gap : function.size
    }
}

/// The project store's `entry-patched` record: the functions entry-patched so far for the
/// current fat build (`{"buildId", "names"}`); a new build starts empty.
struct EntryPatchedFunctions: Codable, Sendable {
    var buildId: String
    var names: [String]

    /// An unreadable record is an error: a function entry-patched earlier and left out of this
    /// patch's entries would keep jumping into the older library.
    static func load(_ layout: ProjectLayout, buildId: String) throws -> Set<String> {
        guard let record = try ProjectStore(layout).read(.entryPatched), record.buildId == buildId else { return [] }
        return Set(record.names)
    }

    static func save(_ names: Set<String>, layout: ProjectLayout, buildId: String) throws {
        try ProjectStore(layout).write(EntryPatchedFunctions(buildId: buildId, names: names.sorted()), for: .entryPatched)
    }
}
