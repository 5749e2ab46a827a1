import Foundation

/// One `stat(2)` of a path: the single place Hotpatch reads the platform's stat fields (Linux's
/// `st_mtim` is Darwin's `st_mtimespec`).
struct FileStatus: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: UInt64
    /// Modification time, nanoseconds since 1970.
    var modifiedNs: Int64

    /// Nil when `path` does not exist or cannot be examined.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = UInt64(info.st_size)
        modifiedNs = Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// Modification time in whole seconds since 1970.
    var modifiedSeconds: Int64 { modifiedNs / 1_000_000_000 }

    /// Whether both name one file (hard links of each other): same device and inode.
    func isSameFile(as other: FileStatus) -> Bool { device == other.device && inode == other.inode }
}
