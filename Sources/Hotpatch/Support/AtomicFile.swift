import Foundation
#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// Replaces a file's contents atomically: write a uniquely named temporary file in the same
/// directory, then `rename(2)` it over the target. Readers see the old file or the new one,
/// never a mix, and concurrent writers cannot tear each other's output. The one writer of every
/// file the pipeline and the server keep (JSON state, symbol caches).
enum AtomicFile {
    /// Why a replace failed: the path and the system's reason.
    struct Failure: Error {
        var path: String
        var reason: String
    }

    static func replace(_ path: String, with bytes: UnsafeRawBufferPointer, permissions: mode_t = 0o644) throws(Failure) {
        let temporary = "\(path)\(temporaryMarker)\(getpid())-\(randomHex(count: 8))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw Failure(path: temporary, reason: "cannot create: \(errnoText())") }
        let failure = writeAll(fd, bytes)
        close(fd)
        if let failure {
            unlink(temporary)
            throw Failure(path: temporary, reason: "cannot write: \(String(cString: strerror(failure)))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw Failure(path: path, reason: "cannot rename into place: \(reason)")
        }
    }

    /// `bytes` of any contiguous kind (`[UInt8]`, `Data`).
    static func replace(_ path: String, with bytes: some ContiguousBytes, permissions: mode_t = 0o644) throws(Failure) {
        let failure = bytes.withUnsafeBytes { raw -> Failure? in
            do throws(Failure) { try replace(path, with: raw, permissions: permissions) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// What names a temporary file: `<target>.tmp-<pid>-<random>`.
    static let temporaryMarker = ".tmp-"

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Removes temporary files in `directory` that a writer killed before its rename left behind
    /// (older than `age` seconds, so a write in progress is never touched).
    static func removeAbandonedTemporaries(in directory: String, olderThan age: Int = 600) {
        guard let handle = opendir(directory) else { return }
        defer { closedir(handle) }
        let now = time(nil)
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.contains(temporaryMarker) else { continue }
            let path = "\(directory)/\(name)"
            guard let modified = FileStatus(path: path)?.modifiedSeconds else { continue }
            if Int64(now) - modified > Int64(age) { unlink(path) }
        }
    }
}
