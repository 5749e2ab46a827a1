import ErrorModel

/// An error building a ``SymbolTable`` that is not about the object file's bytes (those throw
/// `ObjectFileError`).
public struct SymbolTableError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The failure category; a struct around a private enum so categories can be added later.
    public struct Code: Hashable, Sendable {
        enum Storage: Hashable, Sendable {
            case tooLarge
        }

        let storage: Storage

        init(_ storage: Storage) { self.storage = storage }

        /// The table exceeds what its 32-bit offsets can address.
        public static var tooLarge: Self { .init(.tooLarge) }
    }

    public let code: Code
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension SymbolTableError: WhiskerError {
    public var errorKind: ErrorKind { .unsupported }
    public var identifier: String { "symbol_table_too_large" }
}
