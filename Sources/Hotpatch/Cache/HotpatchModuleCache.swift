#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import Crypto
import Logging
import ObjectFile

/// Parsed symbol tables, persisted per binary content.
///
/// An entry lives at `<directory>/symbols/<sha256 of the binary>.wsym` (a universal file's at
/// `<sha256>-<slice architecture>.wsym`), so a changed binary can never meet a stale table. Entries are verified (header, sizes, checksums, binary digest) on
/// every load; a damaged one is parsed again and replaced. Writers write a temporary file in the
/// same directory and rename it over the entry, so concurrent writers (threads or processes) never
/// leave a torn file: the last rename wins and every candidate is complete.
public struct HotpatchModuleCache: Sendable {
    /// The cache root (`symbols/` lives below it).
    public let directory: String
    /// Where the stage reading through the cache (``CachedSymbolTable``) reports hits, misses and damage.
    let logger: Logger

    /// Uses `directory` if given, else the environment's choice (see ``resolveDirectory(explicit:environment:)``).
    public init(directory: String? = nil, logger: Logger = Logger(label: "whisker.cache")) {
        self.directory = Self.resolveDirectory(explicit: directory)
        self.logger = logger
    }

    /// `explicit` > `WHISKER_CACHE_DIR` > `$XDG_CACHE_HOME/whisker-hotpatch` > `~/.cache/whisker-hotpatch`.
    /// Empty values count as unset.
    public static func resolveDirectory(explicit: String? = nil, environment: [String: String]? = nil) -> String {
        let environment = environment ?? Self.processEnvironment()
        if let explicit, !explicit.isEmpty { return explicit }
        if let value = environment["WHISKER_CACHE_DIR"], !value.isEmpty { return value }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/whisker-hotpatch" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.passwdHome() ?? "/tmp"
        return home + "/.cache/whisker-hotpatch"
    }

    /// `<directory>/symbols/<digest>.wsym`.
    public func entryPath(forDigest digest: String) -> String {
        "\(directory)/symbols/\(digest).wsym"
    }

    /// Tables this process loaded, by entry path: the relocate stage and the link of one patch, and
    /// every patch a server makes of one build, share one mapping and one verification.
    /// Content-addressed (the path holds the binary's digest) and replaced only by rename, so a
    /// table once verified stays right; a few entries bound the memory a long server run keeps.
    static let loaded = Locked(LoadedTables())

    struct LoadedTables {
        static let capacity = 4
        var entries: [(path: String, identity: FileIdentity, table: SymbolTable)] = []

        /// The table remembered for `path` if the file there is still the one it was read from.
        func table(at path: String, identity: FileIdentity?) -> SymbolTable? {
            guard let identity, let hit = entries.first(where: { $0.path == path }), hit.identity == identity else { return nil }
            return hit.table
        }

        mutating func insert(_ table: SymbolTable, at path: String) {
            entries.removeAll { $0.path == path }
            guard let identity = FileIdentity(path: path) else { return }
            entries.insert((path, identity, table), at: 0)
            if entries.count > Self.capacity { entries.removeLast() }
        }
    }

    /// Device, inode, size and modification time: a file rewritten in place or replaced by rename
    /// (a damaged entry rebuilt, a test flipping a byte) no longer matches what was verified.
    typealias FileIdentity = FileStatus

    /// Gives `table` its ``SymbolSecondaryIndex`` from the `.widx` file beside `entry`, else
    /// builds it (one pass over the table) and writes that file, so later patches of the build, in
    /// this process or the next, look names up without that pass. Remembers the table for this
    /// process. Never fails: without the file the index is built in memory.
    func withSecondaryIndex(_ table: SymbolTable, entry: String, digest: String) {
        defer { Self.loaded.withLock { $0.insert(table, at: entry) } }
        guard table.existingSecondaryIndex == nil else { return }
        // Its own folder: `symbols/` holds exactly one file per table.
        let entryName = entry.split(separator: "/").last.map(String.init) ?? entry
        let indexPath = "\(directory)/symbol-index/\(entryName.hasSuffix(".wsym") ? String(entryName.dropLast(5)) : entryName).widx"
        let digestBytes = Self.bytes(hex: digest)
        if access(indexPath, F_OK) == 0, let file = try? MappedFile(path: indexPath),
           let index = SymbolIndexFile.decode(file.unsafeBytes, table: table, binaryDigest: digestBytes) {
            table.install(index)
            return
        }
        let bytes = SymbolIndexFile.encode(table.secondaryIndex, tableCount: table.count, binaryDigest: digestBytes)
        do {
            try Self.makeDirectories("\(directory)/symbol-index")
            try AtomicFile.replace(indexPath, with: bytes)
        } catch {
            logger.warning("symbol index not written", metadata: ["error": "\(error)"])
        }
    }

    /// Result of reading one entry file.
    enum EntryLoad {
        case loaded(SymbolTable)
        case absent
        case damaged(String)
    }

    /// Maps and verifies the entry at `path` for a binary with `digest` (hex).
    func loadEntry(at path: String, digest: String) -> EntryLoad {
        guard access(path, F_OK) == 0 else { return .absent }
        let file: MappedFile
        do {
            file = try MappedFile(path: path, prefault: true)
        } catch {
            return .damaged("cannot read entry: \(error.found ?? error.what)")
        }
        do {
            return .loaded(try SymbolTableFile.decode(file, expectedDigest: Self.bytes(hex: digest)))
        } catch {
            return .damaged(error.description)
        }
    }

    /// Loads a verified entry directly (for benchmarks and tools that already know the digest).
    public func loadEntry(forDigest digest: String) -> SymbolTable? {
        if case .loaded(let table) = loadEntry(at: entryPath(forDigest: digest), digest: digest) { return table }
        return nil
    }

    /// Writes `table` for the binary with `digest` to `path` through a temporary file and rename.
    func store(_ table: SymbolTable, digest: String, at path: String) throws(HotpatchModuleCacheError) {
        let folder = "\(directory)/symbols"
        try Self.makeDirectories(folder)
        let bytes = SymbolTableFile.encode(table, binaryDigest: Self.bytes(hex: digest))
        do {
            try AtomicFile.replace(path, with: bytes)
        } catch {
            throw HotpatchModuleCacheError(.cannotWrite, path: error.path, error.reason)
        }
        AtomicFile.removeAbandonedTemporaries(in: folder)
    }

    // MARK: Digests

    /// Lowercase hex sha256 of the file's bytes, streamed over the mapping in 4 MiB steps.
    public static func sha256(of file: MappedFile) -> String {
        var hasher = SHA256()
        file.withUnsafeBytes { bytes in
            var offset = 0
            let step = 4 << 20
            while offset < bytes.count {
                let end = Swift.min(offset + step, bytes.count)
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                offset = end
            }
        }
        return hasher.finalize().lowercaseHex
    }

    /// Lowercase hex sha256 of `bytes` (what a served patch library is checked against).
    public static func sha256(of bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).lowercaseHex
    }

    /// sha256 of the file at `path`.
    public static func sha256(ofFileAt path: String) throws(ObjectFileError) -> String {
        sha256(of: try MappedFile(path: path))
    }

    static func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var iterator = hex.utf8.prefix(64).makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            func nibble(_ c: UInt8) -> UInt8 { c >= 0x61 ? c - 0x61 + 10 : c >= 0x41 ? c - 0x41 + 10 : c &- 0x30 }
            result.append(nibble(high) << 4 | nibble(low))
        }
        return result
    }

    // MARK: Environment

    private static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        for key in ["WHISKER_CACHE_DIR", "XDG_CACHE_HOME", "HOME"] {
            if let value = getenv(key) { result[key] = String(cString: value) }
        }
        return result
    }

    private static func passwdHome() -> String? {
        guard let entry = getpwuid(getuid()), let home = entry.pointee.pw_dir else { return nil }
        return String(cString: home)
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(HotpatchModuleCacheError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0, errno != EEXIST {
                throw HotpatchModuleCacheError(
                    .cannotWrite, path: current, "cannot create cache directory: \(String(cString: strerror(errno)))")
            }
        }
    }
}
