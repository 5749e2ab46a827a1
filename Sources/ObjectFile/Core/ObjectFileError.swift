/// An error thrown while opening or reading an object file.
///
/// Every error names the file, the byte offset where reading went wrong (when there is one) and what
/// the reader expected there, so a message reads like
/// `libfoo.so: truncated section header table at offset 0x1234: expected 64 bytes, 12 available`.
/// ``code`` tells callers what kind of failure it was without parsing the message.
public struct ObjectFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public let code: Code
    /// The file as the caller named it.
    public let path: String
    /// The byte offset in the file where the problem was found, if the problem has a place.
    public let offset: UInt64?
    /// What went wrong, e.g. "truncated section header table".
    public let what: String
    /// What the reader expected, e.g. "64 bytes".
    public let expected: String?
    /// What it found instead, phrased to follow "expected …, " (e.g. "12 available", "found 3"),
    /// or the system's reason when nothing was expected (e.g. "No such file or directory").
    public let found: String?

    /// Creates an error; `ObjectFile` readers create these, tests and callers usually only read them.
    public init(
        _ code: Code,
        path: String,
        offset: UInt64? = nil,
        what: String,
        expected: String? = nil,
        found: String? = nil
    ) {
        self.code = code
        self.path = path
        self.offset = offset
        self.what = what
        self.expected = expected
        self.found = found
    }

    /// One line: `<path>: <what>[ at offset 0x…][: expected …][, found]`.
    public var description: String {
        var text = "\(path): \(what)"
        if let offset {
            text += " at offset 0x\(String(offset, radix: 16))"
        }
        if let expected {
            text += ": expected \(expected)"
            if let found { text += ", \(found)" }
        } else if let found {
            text += ": \(found)"
        }
        return text
    }
}

extension ObjectFileError {
    /// A failure category. A struct around a private enum so categories can be added later without
    /// breaking exhaustive `switch`es in callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Storage: Hashable, Sendable {
            case cannotOpen
            case unknownFormat
            case truncated
            case malformed
            case unsupported
            case architectureNotFound
        }

        let storage: Storage

        init(_ storage: Storage) { self.storage = storage }

        /// The file could not be opened, examined or mapped (missing, a directory, no permission).
        public static var cannotOpen: Self { .init(.cannotOpen) }
        /// The magic number is not one of ELF, Mach-O or universal Mach-O.
        public static var unknownFormat: Self { .init(.unknownFormat) }
        /// A structure extends past the end of the file (or of its containing slice or section).
        public static var truncated: Self { .init(.truncated) }
        /// A field holds a value that cannot be right (bad size, bad index, unterminated string).
        public static var malformed: Self { .init(.malformed) }
        /// A valid file of a kind this reader does not handle (e.g. 32-bit Mach-O).
        public static var unsupported: Self { .init(.unsupported) }
        /// A universal file has no slice for the requested architecture, or a thin file is another one.
        public static var architectureNotFound: Self { .init(.architectureNotFound) }

        public var description: String {
            switch storage {
            case .cannotOpen: "cannot open"
            case .unknownFormat: "unknown format"
            case .truncated: "truncated"
            case .malformed: "malformed"
            case .unsupported: "unsupported"
            case .architectureNotFound: "architecture not found"
            }
        }
    }
}
