/// What building a jump table found, beyond the table.
public struct JumpTableBuild: Sendable, Hashable {
    public var table: JumpTable
    /// Names routed old → new, sorted (a name whose old code exists in several copies is routed
    /// once per copy, but listed once).
    public var routed: [String]
    /// Function names present on both sides that were not routed because one side defines
    /// different functions under that name (C `static`s of two files); sorted.
    public var ambiguous: [String]
}

extension JumpTableBuild {
    /// The jump-table stage: pairs every function the patch library defines with the fat binary's function of the same
    /// name.
    ///
    /// Policy, name by name:
    /// - names in `excluding` (the stub's trampolines, which carry the names of functions the patch
    ///   *calls*) and the C start files' own functions (`_init`, `frame_dummy`, …) are skipped;
    /// - a name with one meaning on each side (aliases collapse; a single global wins over locals)
    ///   is one entry;
    /// - a Rust name defined at several old addresses (copies of one instantiation in several
    ///   codegen units) routes every copy to the new code;
    /// - a name with several meanings on either side is skipped and reported in `ambiguous`;
    /// - names compare without the `.llvm.<digits>` suffix ThinLTO gives symbols it promotes
    ///   (release builds of a crate with several codegen units): the patch, one codegen unit, has
    ///   the plain name.
    ///
    /// - Parameters:
    ///   - old: the fat binary's symbols (file addresses).
    ///   - new: the patch library's symbols (`st_value`s, linked at 0).
    ///   - slide: the process the table is for.
    public static func make(
        patchId: Int, buildId: String, libraryPath: String, slide: ASLRSlide, old: some SymbolSource,
        new: some SymbolSource, excluding: Set<String> = []
    ) -> JumpTableBuild {
        var byName: [String: [SymbolInfo]] = [:]
        for function in new.definedFunctions() where !excluding.contains(function.name) && !JumpTable.startFileFunctions.contains(function.name) {
            byName[JumpTable.withoutLTOSuffix(function.name), default: []].append(function)
        }
        var entries: [UInt64: JumpTable.Entry] = [:]
        var routed: [String] = []
        var ambiguous: [String] = []
        for name in byName.keys.sorted() {
            let newSide = SymbolResolution.resolve(byName[name] ?? [])
            let oldSide = SymbolResolution.resolve(
                old.definitions(named: name).filter { $0.kind == .function } + old.ltoSuffixedFunctions(named: name))
            let target: SymbolInfo
            switch newSide {
            case .unique(let symbol): target = symbol
            case .copies(let copies):
                guard let first = copies.first else { continue }
                target = first
            case .ambiguous:
                if oldSide != .none { ambiguous.append(name) }
                continue
            case .none: continue
            }
            let sources: [SymbolInfo]
            switch oldSide {
            case .none: continue  // added by the patch: nothing old to route
            case .unique(let symbol): sources = [symbol]
            case .copies(let copies): sources = copies
            case .ambiguous:
                ambiguous.append(name)
                continue
            }
            routed.append(name)
            for source in sources where entries[source.address] == nil {
                entries[source.address] = JumpTable.Entry(oldFileAddress: source.address, newAddress: target.address)
            }
        }
        let newMain: UInt64 =
            if case .unique(let main) = SymbolResolution.resolve(new.definitions(named: "main")) { main.address } else { 0 }
        let table = JumpTable(
            patchId: patchId, buildId: buildId, libraryPath: libraryPath, slide: slide, newBaseAddress: newMain,
            entries: entries.values.sorted { $0.oldFileAddress < $1.oldFileAddress })
        return JumpTableBuild(table: table, routed: routed, ambiguous: ambiguous)
    }
}

extension JumpTable {
    /// `name` without a trailing `.llvm.<digits>` (ThinLTO's promotion suffix).
    public static func withoutLTOSuffix(_ name: String) -> String {
        // On UTF-8 bytes: this runs for every function the patch defines, and
        // `String.range(of:)` goes through Foundation's `NSString` on Linux.
        var bytes = name
        guard let length = bytes.withUTF8({ LTOSuffix.strippedLength(UnsafeRawBufferPointer($0)) }) else { return name }
        // The marker is ASCII, so the cut is on a character boundary.
        return String(decoding: name.utf8.prefix(length), as: UTF8.self)
    }

    /// Functions the C start files (crti, crtbeginS, crtendS, crtn) put into every executable and
    /// shared library; an old→new pair of these means nothing.
    static let startFileFunctions: Set<String> = [
        "_init", "_fini", "_start", "frame_dummy", "register_tm_clones", "deregister_tm_clones",
        "__do_global_dtors_aux", "__do_global_ctors_aux", "call_weak_fn", "_dl_relocate_static_pie",
    ]
}
