import ErrorModel

/// An unreadable binary is the caller's input, never a bug of ours: the server answers it with
/// a 4xx, not a 500.
extension ObjectFileError: WhiskerError {
    public var errorKind: ErrorKind {
        switch code.storage {
        case .cannotOpen: .notFound
        case .unsupported, .architectureNotFound: .unsupported
        case .unknownFormat, .truncated, .malformed: .unreadableInput
        }
    }

    /// `object_truncated`, `object_cannot_open`, …
    public var identifier: String {
        "object_" + code.description.replacingOccurrences(of: " ", with: "_")
    }

    public var message: String { description }
}
