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
    public static func writeAtomically(_ data: Data, to url: URL, permissions: Int = 0o644) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            try AtomicFile.replace(url.path, with: data, permissions: mode_t(permissions))
        } catch {
            throw FileError.cannotWrite(path: url.path, reason: "\(error.path): \(error.reason)")
        }
    }
}

/// A file the pipeline needed could not be read, parsed or written.
public enum FileError: HotpatchError {
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case malformed(path: String, reason: String)

    public var code: String {
        switch self {
        case .cannotRead: "file_unreadable"
        case .cannotWrite: "file_unwritable"
        case .malformed: "file_malformed"
        }
    }

    public var message: String {
        switch self {
        case let .cannotRead(path, reason): "cannot read \(path): \(reason)"
        case let .cannotWrite(path, reason): "cannot write \(path): \(reason)"
        case let .malformed(path, reason): "\(path) is not what this version of whisker-dev expects: \(reason)"
        }
    }

    public var hint: String? {
        switch self {
        case .cannotRead: "check that the file exists and is readable"
        case .cannotWrite: "check free space and permissions of the cache directory (--cache-dir, WHISKER_CACHE_DIR)"
        case .malformed: "delete it or run `whisker-dev build` again to recreate it"
        }
    }
}
