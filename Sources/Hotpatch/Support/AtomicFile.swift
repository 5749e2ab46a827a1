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
///
/// A process killed at any instant (`kill -9`) leaves the old file or the new one: the kernel
/// keeps what was written. Surviving a power loss takes `fsync`, which costs 5–70 ms a file on
/// this project's machines, so it is asked for (`durable`) only off the patch's critical path:
/// the server's journal writes, which first ``sync(_:)`` the records and libraries they name.
enum AtomicFile {
    /// Why a replace failed: the path, the system's reason and its `errno` (a full disk is
    /// `ENOSPC` or `EDQUOT`: callers report it as such).
    struct Failure: Error {
        var path: String
        var reason: String
        var errno: Int32?

        /// The file system is full (or the user's quota is): nothing was replaced.
        var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT }
    }

    static func replace(_ path: String, with bytes: UnsafeRawBufferPointer, permissions: mode_t = 0o644, durable: Bool = false) throws(Failure) {
        let temporary = try stage(path, with: bytes, permissions: permissions, durable: durable)
        try commit(temporary, to: path, durable: durable)
    }

    /// `bytes` of any contiguous kind (`[UInt8]`, `Data`).
    static func replace(_ path: String, with bytes: some ContiguousBytes, permissions: mode_t = 0o644, durable: Bool = false) throws(Failure) {
        let temporary = try stage(path, with: bytes, permissions: permissions, durable: durable)
        try commit(temporary, to: path, durable: durable)
    }

    /// The first half of a replace: `bytes` in a new temporary file beside `path`, which is not
    /// touched. Where the disk is full this fails and leaves nothing behind. Returns the
    /// temporary's path for ``commit(_:to:durable:)`` (or `unlink` to drop it).
    static func stage(_ path: String, with bytes: some ContiguousBytes, permissions: mode_t = 0o644, durable: Bool = false) throws(Failure) -> String {
        let result = bytes.withUnsafeBytes { raw -> Result<String, Failure> in
            do throws(Failure) { return .success(try stage(path, with: raw, permissions: permissions, durable: durable)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    static func stage(_ path: String, with bytes: UnsafeRawBufferPointer, permissions: mode_t = 0o644, durable: Bool = false) throws(Failure) -> String {
        let temporary = "\(path)\(temporaryMarker)\(getpid())-\(randomHex(count: 8))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw failure(temporary, "cannot create") }
        var failed = writeAll(fd, bytes)
        if failed == nil, durable, fsync(fd) != 0 { failed = errno }
        // close(2) can report a write the file system deferred (NFS, quotas).
        if close(fd) != 0, failed == nil { failed = errno }
        if let failed {
            unlink(temporary)
            throw Failure(path: temporary, reason: "cannot write: \(String(cString: strerror(failed)))", errno: failed)
        }
        return temporary
    }

    /// The second half: renames a staged temporary over `path` (atomic on one file system; it
    /// needs no free space). `durable`: the directory entry is synced too.
    static func commit(_ temporary: String, to path: String, durable: Bool = false) throws(Failure) {
        guard rename(temporary, path) == 0 else {
            let failed = failure(path, "cannot rename into place")
            unlink(temporary)
            throw failed
        }
        if durable { syncDirectory(of: path) }
    }

    /// Makes files written without `durable` survive a power loss: `fsync` of each and of its
    /// directory (once per directory). Best effort: a file that is gone is skipped.
    static func sync(_ paths: [String]) {
        var directories = Set<String>()
        for path in paths {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            fsync(fd)
            close(fd)
            directories.insert((path as NSString).deletingLastPathComponent)
        }
        for directory in directories { syncDirectory(path: directory) }
    }

    private static func syncDirectory(of path: String) {
        syncDirectory(path: (path as NSString).deletingLastPathComponent)
    }

    private static func syncDirectory(path: String) {
        let fd = open(path.isEmpty ? "." : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// What names a temporary file: `<target>.tmp-<pid>-<random>`.
    static let temporaryMarker = ".tmp-"

    private static func failure(_ path: String, _ what: String) -> Failure {
        let code = errno
        return Failure(path: path, reason: "\(what): \(String(cString: strerror(code)))", errno: code)
    }

    /// Removes temporary files in `directory` whose writer no longer runs (the pid in the name):
    /// what a process killed between its write and its rename left behind.
    static func removeTemporariesOfEndedWriters(in directory: String) {
        removeTemporaries(in: directory) { name, _ in
            guard let marker = name.range(of: temporaryMarker),
                  let pid = name[marker.upperBound...].split(separator: "-").first.flatMap({ Int32($0) })
            else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }
    }

    /// Removes temporary files in `directory` that a writer killed before its rename left behind
    /// (older than `age` seconds, so a write in progress is never touched).
    static func removeAbandonedTemporaries(in directory: String, olderThan age: Int = 600) {
        let now = Int64(time(nil))
        removeTemporaries(in: directory) { _, path in
            guard let modified = FileStatus(path: path)?.modifiedSeconds else { return false }
            return now - modified > Int64(age)
        }
    }

    /// Unlinks each temporary file (its name holds ``temporaryMarker``) in `directory` that
    /// `abandoned` (given its name and path) says no writer will rename.
    private static func removeTemporaries(in directory: String, where abandoned: (String, String) -> Bool) {
        guard let handle = opendir(directory) else { return }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.contains(temporaryMarker) else { continue }
            let path = "\(directory)/\(name)"
            if abandoned(name, path) { unlink(path) }
        }
    }
}
