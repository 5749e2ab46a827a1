/// Why a byte sequence is not the JSON we accept, with jansson's position of the problem.
///
/// Covers syntax errors, invalid UTF-8, duplicate object keys, integers beyond `Int64` and
/// nesting deeper than jansson's limit of 2048.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// jansson's description of the problem, e.g. "duplicate object key near '\"pid\"'".
    public let reason: String
    /// 1-based line of the problem (0 when jansson could not tell).
    public let line: Int
    /// 1-based column, counted in Unicode code points as jansson does.
    public let column: Int
    /// Byte offset from the start of the input.
    public let position: Int

    public init(reason: String, line: Int, column: Int, position: Int) {
        self.reason = reason
        self.line = line
        self.column = column
        self.position = position
    }

    public var description: String {
        "malformed JSON at line \(line), column \(column) (byte \(position)): \(reason)"
    }
}
