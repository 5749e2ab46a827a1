/// How a name that several symbols share is narrowed down to what it means, shared by the stub
/// (which definition a patch's reference binds to) and the jump table (which functions pair up).
enum SymbolResolution {
    /// What a set of same-named definitions comes down to.
    enum Outcome: Equatable {
        /// Nothing defines the name.
        case none
        /// One meaning: a single address (aliases collapse), or the one global among locals.
        case unique(SymbolInfo)
        /// Copies of one Rust instantiation (same mangled name, hash included) at several
        /// addresses, e.g. an inline function emitted into several codegen units; any copy
        /// behaves the same. Sorted by address.
        case copies([SymbolInfo])
        /// Different things with one name (C `static` functions of two files): no safe choice.
        case ambiguous([SymbolInfo])
    }

    /// Narrows `candidates` (all definitions of one name) down.
    ///
    /// Aliases at one address are one symbol. Among several addresses, a single global or weak
    /// definition wins: a reference from another object can only bind to a non-local symbol. Rust
    /// names carry a hash of the instantiation, so equal Rust names are copies of the same code;
    /// equal C names are not.
    static func resolve(_ candidates: [SymbolInfo]) -> Outcome {
        // The common case, one definition, without building anything.
        if candidates.count == 1, let only = candidates.first { return .unique(only) }
        let distinct = distinctByAddress(candidates)
        guard let first = distinct.first else { return .none }
        if distinct.count == 1 { return .unique(first) }
        let nonLocal = distinct.filter { $0.binding != .local }
        if nonLocal.count == 1, let only = nonLocal.first { return .unique(only) }
        if isRustMangled(first.name) { return .copies(distinct) }
        return .ambiguous(distinct)
    }

    /// One symbol per address (preferring a non-local one, then the first), sorted by address.
    static func distinctByAddress(_ symbols: [SymbolInfo]) -> [SymbolInfo] {
        var distinct: [SymbolInfo] = []
        for symbol in symbols.sorted(by: { $0.address < $1.address }) {
            if let last = distinct.last, last.address == symbol.address {
                if last.binding == .local && symbol.binding != .local { distinct[distinct.count - 1] = symbol }
                continue
            }
            distinct.append(symbol)
        }
        return distinct
    }

    /// Whether `name` is a Rust symbol whose mangling pins one instantiation: legacy
    /// `_ZN…17h<16 hex>E` (optionally followed by a `.suffix`) or v0 `_R…`.
    static func isRustMangled(_ name: String) -> Bool {
        if name.hasPrefix("_R") { return true }
        guard name.hasPrefix("_ZN") else { return false }
        let core = name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
        let bytes = Array(core.utf8)
        // "17h" + 16 hex digits + "E" = 20 bytes at the end.
        guard bytes.count > 23, bytes[bytes.count - 1] == UInt8(ascii: "E") else { return false }
        let hash = bytes[(bytes.count - 20)..<(bytes.count - 1)]
        guard hash.starts(with: Array("17h".utf8)) else { return false }
        return hash.dropFirst(3).allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
        }
    }

    /// Names the static linker or the C start files define in every output, so the patch library
    /// gets its own; a stub definition would collide with them (`__dso_handle` from crtbeginS.o,
    /// `_GLOBAL_OFFSET_TABLE_`, `_DYNAMIC`, section bounds) or silently point into the executable.
    static func isLinkerDefined(_ name: String) -> Bool {
        if linkerDefinedNames.contains(name) { return true }
        return name.hasPrefix("__start_") || name.hasPrefix("__stop_")
    }

    private static let linkerDefinedNames: Set<String> = [
        "_GLOBAL_OFFSET_TABLE_", "_DYNAMIC", "_PROCEDURE_LINKAGE_TABLE_", "__dso_handle",
        "__ehdr_start", "__executable_start", "_etext", "etext", "__etext", "_edata", "edata",
        "_end", "end", "__bss_start", "__init_array_start", "__init_array_end",
        "__fini_array_start", "__fini_array_end", "__preinit_array_start", "__preinit_array_end",
        "__GNU_EH_FRAME_HDR", "__TMC_END__", "_TLS_MODULE_BASE_",
    ]
}
