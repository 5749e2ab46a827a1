#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// Replaces a file's contents atomically: write a uniquely named temporary file in the same
/// directory, then `rename(2)` it over the target. Readers see the old file or the new one,
/// never a mix, and concurrent writers cannot tear each other's output.
enum AtomicFile {
    static func replace(_ path: String, with bytes: [UInt8]) throws(HotpatchModuleCacheError) {
        let temporary = "\(path).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max) & 0xffff_ffff)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw HotpatchModuleCacheError(.cannotWrite, path: temporary, "cannot create: \(errnoText())")
        }
        var written = 0
        let failure: String? = bytes.withUnsafeBytes { raw -> String? in
            guard let base = raw.baseAddress else { return nil }
            while written < raw.count {
                let result = write(fd, base + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return errnoText()
                }
                written += result
            }
            return nil
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw HotpatchModuleCacheError(.cannotWrite, path: temporary, "cannot write: \(failure)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw HotpatchModuleCacheError(.cannotWrite, path: path, "cannot rename into place: \(reason)")
        }
    }

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
            guard name.contains(".wsym.tmp-") else { continue }
            let path = "\(directory)/\(name)"
            guard let modified = FileStatus(path: path)?.modifiedSeconds else { continue }
            if Int64(now) - modified > Int64(age) { unlink(path) }
        }
    }
}
