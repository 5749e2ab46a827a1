import ObjectFile

/// Where a symbol table came from.
public enum CacheOutcome: Sendable, Hashable, CustomStringConvertible {
    /// Loaded from a valid cache entry.
    case hit
    /// No entry for this binary: parsed and stored.
    case miss
    /// An entry existed but was damaged (the reason says how): parsed again and replaced.
    case rebuiltCorrupt(reason: String)

    public var description: String {
        switch self {
        case .hit: "hit"
        case .miss: "miss"
        case .rebuiltCorrupt(let reason): "rebuilt (corrupt entry: \(reason))"
        }
    }
}

/// The cache stage: a binary's symbol table read through ``HotpatchModuleCache`` (parsed once per
/// binary content, then mapped from its entry), and whether the entry was used.
public struct CachedSymbolTable: Sendable {
    public var table: SymbolTable
    public var outcome: CacheOutcome

    public init(table: SymbolTable, outcome: CacheOutcome) {
        self.table = table
        self.outcome = outcome
    }

    /// The symbol table of the binary at `path` (`architecture`: slice of a universal Mach-O),
    /// from the cache when a valid entry exists, else parsed and stored. A cache that cannot be
    /// written is logged as a warning; the parsed table is still returned.
    ///
    /// - Parameter digest: the binary's sha256 (lowercase hex) if the caller already knows it (e.g.
    ///   computed when it copied the binary); hashing a 150 MB library costs ~0.1 s. `nil` hashes.
    /// - Throws: `ObjectFileError` if the binary cannot be read or parsed.
    public static func make(
        forBinaryAt path: String, architecture: String?, digest knownDigest: String? = nil, cache: HotpatchModuleCache
    ) throws -> CachedSymbolTable {
        let binary = try MappedFile(path: path)
        let digest = knownDigest?.lowercased() ?? HotpatchModuleCache.sha256(of: binary)
        // A universal file holds one table per slice: the chosen slice is part of its key.
        var key = digest
        if ObjectFormat.detect(binary.unsafeBytes) == .universal {
            let slice = try UniversalFile(file: binary).slice(for: architecture)
            key += "-" + ObjectFile.canonicalArchitecture(slice.architecture)
        }
        let entry = cache.entryPath(forDigest: key)
        var outcome = CacheOutcome.miss
        let loaded: HotpatchModuleCache.EntryLoad
        if let memo = HotpatchModuleCache.loaded.withLock({ $0.table(at: entry, identity: HotpatchModuleCache.FileIdentity(path: entry)) }) {
            loaded = .loaded(memo)
        } else {
            loaded = cache.loadEntry(at: entry, digest: digest)
        }
        switch loaded {
        case .loaded(let table):
            cache.logger.debug("symbol cache hit", metadata: ["binary": "\(path)", "entry": "\(entry)"])
            cache.withSecondaryIndex(table, entry: entry, digest: digest)
            if let architecture,
               ObjectFile.canonicalArchitecture(architecture) != ObjectFile.canonicalArchitecture(table.architecture) {
                // What parsing a thin file for another architecture would throw.
                throw ObjectFileError(
                    .architectureNotFound, path: path, what: "wrong architecture", expected: architecture,
                    found: "found \(table.architecture)")
            }
            return CachedSymbolTable(table: table, outcome: .hit)
        case .absent:
            break
        case .damaged(let reason):
            cache.logger.warning("symbol cache entry damaged; rebuilding", metadata: ["entry": "\(entry)", "reason": "\(reason)"])
            outcome = .rebuiltCorrupt(reason: reason)
        }
        let table = try SymbolTable.make(parsing: ObjectFile(file: binary, architecture: architecture))
        do {
            try cache.store(table, digest: digest, at: entry)
            cache.logger.debug("symbol cache stored", metadata: ["binary": "\(path)", "entry": "\(entry)", "symbols": "\(table.count)"])
        } catch {
            cache.logger.warning("symbol cache not written", metadata: ["error": "\(error)"])
        }
        cache.withSecondaryIndex(table, entry: entry, digest: digest)
        return CachedSymbolTable(table: table, outcome: outcome)
    }
}

extension CachedSymbolTable {
    /// The kept fat binary's symbols: what every patch stage binds to. The digest is the one
    /// memoised beside the binary (``FatBuild/keptBinaryDigest()``), so no patch hashes it again.
    public static func make(fatBinaryOf build: FatBuild, cache: HotpatchModuleCache) throws -> CachedSymbolTable {
        try make(forBinaryAt: build.binary, architecture: nil, digest: build.keptBinaryDigest(), cache: cache)
    }
}
