/// The decoded `?name=value` pairs of a request, in order; `?flag` has the value `""`.
public struct QueryParameters: Sendable, Equatable, Sequence {
    public private(set) var pairs: [(name: String, value: String)] = []

    public init() {}

    public init(_ pairs: [(String, String)]) {
        self.pairs = pairs.map { (name: $0.0, value: $0.1) }
    }

    public mutating func add(_ name: String, _ value: String) {
        pairs.append((name, value))
    }

    /// The first value of `name`.
    public subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// An integer parameter; 400 `invalid_query` when present but not an integer.
    public func int(_ name: String) throws(HTTPError) -> Int64? {
        guard let text = self[name] else { return nil }
        guard let number = Int64(text) else {
            throw invalid(name, "must be an integer, got '\(text)'")
        }
        return number
    }

    /// An integer parameter that must lie in `range` (`limit`, `wait` seconds).
    public func int(_ name: String, in range: ClosedRange<Int64>) throws(HTTPError) -> Int64? {
        guard let number = try int(name) else { return nil }
        guard range.contains(number) else {
            throw invalid(name, "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    /// A boolean parameter: `true`/`1`/`yes` or a bare `?name`; `false`/`0`/`no`.
    public func bool(_ name: String) throws(HTTPError) -> Bool? {
        guard let text = self[name] else { return nil }
        switch text.lowercased() {
        case "", "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw invalid(name, "must be true or false, got '\(text)'")
        }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        pairs.makeIterator()
    }

    public static func == (lhs: QueryParameters, rhs: QueryParameters) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }

    private func invalid(_ name: String, _ problem: String) -> HTTPError {
        HTTPError(.badRequest, code: "invalid_query", message: "query parameter '\(name)' \(problem)")
    }
}
