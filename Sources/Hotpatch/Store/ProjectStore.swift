import Foundation

/// The project's state on disk, in one place and one format: `<project root>/store/<name>.json`,
/// each file `{"format": N, "value": …}` written atomically. The pipeline keeps its records here
/// (what the next patch compares against, per-function baselines, statics of earlier patches,
/// entry-patched functions) and the server its journal, each under a typed ``Key``.
///
/// One migration path: a record from before the store (a bare value at its old file name in the
/// project root, format 0) is read once, rewritten in the store's format and removed; a record
/// whose format is newer than this build's is an error, never guessed at.
public struct ProjectStore: Sendable {
    /// The format this build writes; bumped with a migration in ``migrate(_:from:key:)``.
    public static let format = 1

    /// One record: its file name in the store, the file it had before the store (if any).
    public struct Key<Value: Codable & Sendable>: Sendable {
        public let name: String
        public let legacyFile: String?

        public init(_ name: String, legacyFile: String? = nil) {
            self.name = name
            self.legacyFile = legacyFile
        }
    }

    public let layout: ProjectLayout

    public init(_ layout: ProjectLayout) {
        self.layout = layout
    }

    public var directory: URL { layout.root.appendingPathComponent("store") }

    public func file<Value>(_ key: Key<Value>) -> URL { directory.appendingPathComponent("\(key.name).json") }

    /// The record, nil when there is none. Throws when it exists but cannot be read: state that
    /// later work depends on is never silently replaced by a default.
    public func read<Value>(_ key: Key<Value>) throws -> Value? {
        let url = file(key)
        if let data = FileManager.default.contents(atPath: url.path) {
            return try decode(data, key: key, path: url.path)
        }
        guard let legacy = key.legacyFile.map({ layout.root.appendingPathComponent($0) }),
              let data = FileManager.default.contents(atPath: legacy.path)
        else { return nil }
        let value = try migrate(data, from: 0, key: key, path: legacy.path)
        try write(value, for: key)
        try? FileManager.default.removeItem(at: legacy)
        return value
    }

    /// Replaces the record (temporary file + rename: a kill leaves the old record or the new one,
    /// a full disk the old one, ``FileError/diskFull(path:reason:)``). `durable`: synced to the
    /// disk too (see ``AtomicFile``: costly, so not on a patch's critical path).
    public func write<Value>(_ value: Value, for key: Key<Value>, durable: Bool = false) throws {
        try JSONFile.writeAtomically(try encoded(value), to: file(key), durable: durable)
    }

    /// The record's bytes as the store keeps them.
    func encoded<Value: Codable>(_ value: Value) throws -> Data {
        try JSONFile.encode(Envelope(format: Self.format, value: value))
    }

    /// Removes what writers killed before their rename left in the store (temporaries of
    /// processes that no longer run); the records themselves are whole either way.
    public func removeAbandonedWrites() {
        AtomicFile.removeTemporariesOfEndedWriters(in: directory.path)
    }

    /// Every record file in the store, for ``JSONFile/sync(_:)``.
    public var recordFiles: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { directory.appendingPathComponent($0).path }
    }

    private struct Envelope<Value: Codable>: Codable {
        var format: Int
        var value: Value
    }

    private struct FormatOnly: Decodable {
        var format: Int
    }

    private func decode<Value>(_ data: Data, key: Key<Value>, path: String) throws -> Value {
        let format: Int
        do {
            format = try JSONDecoder().decode(FormatOnly.self, from: data).format
        } catch {
            throw FileError.malformed(path: path, reason: "not a store record (no `format`): \(error)")
        }
        guard format <= Self.format else {
            throw StoreError.newerFormat(path: path, found: format, supported: Self.format)
        }
        guard format == Self.format else {
            return try migrate(data, from: format, key: key, path: path)
        }
        do {
            return try JSONDecoder().decode(Envelope<Value>.self, from: data).value
        } catch {
            throw FileError.malformed(path: path, reason: "\(error)")
        }
    }

    /// Brings a record written in an older format to the current one. Format 0 is the bare value
    /// at its pre-store file name; later formats get their step here.
    private func migrate<Value>(_ data: Data, from format: Int, key: Key<Value>, path: String) throws -> Value {
        switch format {
        case 0:
            do {
                return try JSONDecoder().decode(Value.self, from: data)
            } catch {
                throw FileError.malformed(path: path, reason: "\(error)")
            }
        default:
            throw StoreError.newerFormat(path: path, found: format, supported: Self.format)
        }
    }
}

/// A store record this build cannot read.
public enum StoreError: HotpatchError {
    case newerFormat(path: String, found: Int, supported: Int)

    public var code: String { "store_format_unsupported" }
    public var message: String {
        switch self {
        case .newerFormat(let path, let found, let supported):
            "\(path) is in store format \(found); this whisker-dev reads up to \(supported)"
        }
    }
    public var hint: String? { "use the whisker-dev that wrote it, or remove the project's cache directory to start afresh" }
}
