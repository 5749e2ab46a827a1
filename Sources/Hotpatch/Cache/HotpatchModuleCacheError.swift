import ErrorModel

/// A failure of the module cache itself (not of the binary it reads).
public struct HotpatchModuleCacheError: WhiskerError, Hashable {
    /// The failure category; a struct around a private enum so categories can be added later.
    public struct Code: Hashable, Sendable {
        enum Storage: Hashable, Sendable {
            case cannotWrite
        }

        let storage: Storage

        init(_ storage: Storage) { self.storage = storage }

        /// The cache directory or an entry could not be created or written (permissions, full disk).
        public static var cannotWrite: Self { .init(.cannotWrite) }
    }

    public let code: Code
    /// The file or directory involved.
    public let path: String
    public let message: String

    init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var errorKind: ErrorKind { .environment }
    public var identifier: String { "cache_not_writable" }
    public var hint: String? { "choose another cache directory with --cache-dir or WHISKER_CACHE_DIR" }

    public var description: String {
        "\(path): \(message) (choose another cache directory with --cache-dir or WHISKER_CACHE_DIR)"
    }
}
