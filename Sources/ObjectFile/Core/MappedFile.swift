#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// The read-only bytes of a file, memory-mapped (or copied from an array, for tests).
///
/// Immutable after `init`; the mapping is released in `deinit`. Readers keep a reference to the
/// `MappedFile` for as long as they hand out pointers into it.
public final class MappedFile: Sendable {
    /// The path the file was opened with (or the name given to an in-memory file).
    public let path: String
    /// Number of bytes.
    public let count: Int

    // Immutable after init and only read, so sharing across threads is safe.
    nonisolated(unsafe) private let base: UnsafeRawPointer?
    private let ownership: Ownership

    private enum Ownership {
        case mapped
        case allocated
        case none
    }

    /// Maps the file at `path` read-only.
    ///
    /// - Parameter prefault: map every page up front (Linux `MAP_POPULATE`) for a file that will be
    ///   read completely, instead of taking page faults while reading it.
    /// - Throws: ``ObjectFileError`` with code `.cannotOpen` if the file cannot be opened, is not a
    ///   regular file, or cannot be mapped.
    public init(path: String, prefault: Bool = false) throws(ObjectFileError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ObjectFileError(.cannotOpen, path: path, what: "cannot open file", found: Self.errnoText())
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ObjectFileError(.cannotOpen, path: path, what: "cannot examine file", found: Self.errnoText())
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ObjectFileError(
                .cannotOpen, path: path, what: "not a regular file", expected: "a regular file",
                found: (info.st_mode & S_IFMT) == S_IFDIR ? "found a directory" : "found a special file")
        }
        let size = Int(info.st_size)
        count = size
        guard size > 0 else {
            base = nil
            ownership = .none
            return
        }
        var flags = MAP_PRIVATE
        #if os(Linux)
        if prefault { flags |= MAP_POPULATE }
        #endif
        let address = mmap(nil, size, PROT_READ, flags, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw ObjectFileError(.cannotOpen, path: path, what: "cannot map file", found: Self.errnoText())
        }
        base = UnsafeRawPointer(address)
        ownership = .mapped
    }

    /// Copies `bytes` into a private buffer; `name` stands in for the path in error messages.
    public init(bytes: [UInt8], name: String = "<memory>") {
        path = name
        count = bytes.count
        guard !bytes.isEmpty else {
            base = nil
            ownership = .none
            return
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 16)
        bytes.withUnsafeBytes { source in
            if let source = source.baseAddress {
                buffer.copyMemory(from: source, byteCount: bytes.count)
            }
        }
        base = UnsafeRawPointer(buffer)
        ownership = .allocated
    }

    deinit {
        guard let base else { return }
        switch ownership {
        case .mapped: munmap(UnsafeMutableRawPointer(mutating: base), count)
        case .allocated: base.deallocate()
        case .none: break
        }
    }

    /// Calls `body` with the file's bytes; the pointer is valid only during the call.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        defer { withExtendedLifetime(self) {} }
        return try body(bytes)
    }

    /// The bytes. Valid only while `self` is alive; module-internal readers keep `self` referenced.
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    /// The bytes, for zero-copy consumers that keep this `MappedFile` referenced for as long as
    /// they use the pointer (e.g. a cache entry whose storage owns its mapping).
    public var unsafeBytes: UnsafeRawBufferPointer { bytes }

    /// A copy of `range` (clamped to the file).
    public func copyBytes(_ range: Range<Int>) -> [UInt8] {
        let lower = max(0, min(range.lowerBound, count))
        let upper = max(lower, min(range.upperBound, count))
        return Array(bytes[lower..<upper])
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
