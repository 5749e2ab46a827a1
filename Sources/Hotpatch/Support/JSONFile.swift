import ErrorModel
import Foundation

/// Reading and writing the pipeline's own record files (build.json, captures, plans; the store's records)
/// with Foundation's coders. Writes go to a temporary sibling first and are renamed into place, so a
/// reader never sees half a file and "last writer wins" holds for concurrent writers.
public enum JSONFile {
    /// Pretty, key-sorted JSON: these files are read by people as often as by programs.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    public static func write<T: Encodable>(_ value: T, to url: URL, permissions: Int = 0o644) throws {
        do {
            try writeAtomically(try encode(value), to: url, permissions: permissions)
        } catch let error as FileError {
            throw error
        } catch {
            throw FileError.cannotWrite(path: url.path, reason: "\(error)")
        }
    }

    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw FileError.cannotRead(path: url.path, reason: (error as NSError).localizedDescription)
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw FileError.malformed(path: url.path, reason: "\(error)")
        }
    }

    /// Writes `data` to a unique temporary file next to `url`, then renames it over `url`.
    /// `durable`: synced to the disk before and after the rename (see ``AtomicFile``). A full
    /// disk throws ``FileError/diskFull(path:reason:)`` and leaves `url` as it was.
    public static func writeAtomically(_ data: Data, to url: URL, permissions: Int = 0o644, durable: Bool = false) throws {
        let directory = url.deletingLastPathComponent()
        try createDirectory(directory)
        do {
            try AtomicFile.replace(url.path, with: data, permissions: mode_t(permissions), durable: durable)
        } catch {
            throw FileError(writing: url.path, error)
        }
    }

    /// Creates `directory` (and its parents); a full disk is ``FileError/diskFull(path:reason:)``.
    static func createDirectory(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            let underlying = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.code
            if (error as? CocoaError)?.code == .fileWriteOutOfSpace || underlying == Int(ENOSPC) || underlying == Int(EDQUOT) {
                throw FileError.diskFull(path: directory.path, reason: (error as NSError).localizedDescription)
            }
            throw FileError.cannotWrite(path: directory.path, reason: (error as NSError).localizedDescription)
        }
    }

    /// Makes files written without `durable` survive a power loss (``AtomicFile/sync(_:)``).
    public static func sync(_ paths: [String]) {
        AtomicFile.sync(paths)
    }
}

/// A file the pipeline needed could not be read, parsed or written.
public enum FileError: HotpatchError {
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case malformed(path: String, reason: String)
    /// No space left on the file system (or the quota is used up): the file was not replaced.
    case diskFull(path: String, reason: String)

    /// A failed ``AtomicFile`` write of `path`, a full disk told apart.
    init(writing path: String, _ failure: AtomicFile.Failure) {
        self = failure.isDiskFull
            ? .diskFull(path: path, reason: failure.reason)
            : .cannotWrite(path: path, reason: "\(failure.path): \(failure.reason)")
    }

    public var code: String {
        switch self {
        case .cannotRead: "file_unreadable"
        case .cannotWrite: "file_unwritable"
        case .malformed: "file_malformed"
        case .diskFull: "disk_full"
        }
    }

    /// A full disk is the machine's to fix (`environment`); the rest is the pipeline's.
    public var errorKind: ErrorKind {
        if case .diskFull = self { return .environment }
        return .toolFailed
    }

    public var message: String {
        switch self {
        case let .cannotRead(path, reason): "cannot read \(path): \(reason)"
        case let .cannotWrite(path, reason): "cannot write \(path): \(reason)"
        case let .malformed(path, reason): "\(path) is not what this version of whisker-dev expects: \(reason)"
        case let .diskFull(path, reason): "cannot write \(path): the disk is full (\(reason))"
        }
    }

    public var hint: String? {
        switch self {
        case .cannotRead: "check that the file exists and is readable"
        case .cannotWrite: "check free space and permissions of the cache directory (--cache-dir, WHISKER_CACHE_DIR)"
        case .malformed: "delete it or run `whisker-dev build` again to recreate it"
        case .diskFull: "free space on the file system of the cache directory (--cache-dir, WHISKER_CACHE_DIR); what was stored before is unchanged"
        }
    }
}
