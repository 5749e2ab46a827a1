extension Patcher {
    /// The table with ``JumpTable/entryPatches`` filled when ``entryPatching`` is on; the table
    /// unchanged otherwise.
    ///
    /// Called by ``link(_:aslrReference:)`` once the jump table and the per-function diff exist.
    public func addingEntryPatches(to table: JumpTable, fatSymbols: some SymbolSource, diff: DiffReport) -> JumpTable {
        guard entryPatching else { return table }
        var patched = table
        patched.entryPatches = Self.entryPatches(for: table, fatSymbols: fatSymbols, changed: diff.changed)
        return patched
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
    ///   - table: the patch's jump table (``JumpTable/build(patchId:buildId:libraryPath:slide:old:new:excluding:)``).
    ///   - fatSymbols: the fat binary's symbols (file addresses, `st_size`s).
    ///   - changed: raw symbol names whose code changed (``DiffReport/changed``).
    public static func entryPatches(
        for table: JumpTable, fatSymbols: some SymbolSource, changed: [String]
    ) -> [JumpTable.EntryPatch] {
        let routedTo = Dictionary(table.entries.map { ($0.oldFileAddress, $0.newAddress) }, uniquingKeysWith: { first, _ in first })
        var patches: [UInt64: JumpTable.EntryPatch] = [:]
        for name in Set(changed) {
            let olds: [SymbolInfo]
            switch SymbolResolution.resolve(fatSymbols.definitions(named: name).filter { $0.kind == .function }) {
            case .unique(let symbol): olds = [symbol]
            case .copies(let copies): olds = copies
            case .none, .ambiguous: continue
            }
            for old in olds {
                guard let newAddress = routedTo[old.address], patches[old.address] == nil else { continue }
                patches[old.address] = JumpTable.EntryPatch(oldFileAddress: old.address, newAddress: newAddress, oldSize: old.size)
            }
        }
        return patches.values.sorted { $0.oldFileAddress < $1.oldFileAddress }
    }
}
