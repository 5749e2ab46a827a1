/// A path pattern such as `/api/items/{id}/log` or `/web/{path...}`.
///
/// Segments are literal text, `{name}` (one segment) or, last only, `{name...}` (the rest of the
/// path, at least one segment). Empty segments are ignored on both sides, so `/api/items/`
/// matches `/api/items`.
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
        case rest(String)
    }

    /// The pattern as written.
    public let text: String
    let segments: [Segment]

    /// Parses `text`; malformed patterns are programming errors and trap at registration.
    public init(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: true)
        var segments: [Segment] = []
        for (index, part) in parts.enumerated() {
            if part.hasPrefix("{"), part.hasSuffix("}") {
                let inner = part.dropFirst().dropLast()
                if inner.hasSuffix("...") {
                    precondition(index == parts.count - 1, "'{name...}' must be the last segment in \(text)")
                    segments.append(.rest(String(inner.dropLast(3))))
                } else {
                    segments.append(.parameter(String(inner)))
                }
            } else {
                precondition(!part.contains("{") && !part.contains("}"), "malformed segment '\(part)' in \(text)")
                segments.append(.literal(String(part)))
            }
        }
        self.text = "/" + parts.joined(separator: "/")
        self.segments = segments
    }

    public var description: String { text }

    /// Literal segments count most, so `/api/items/latest` beats `/api/items/{id}`.
    var specificity: Int {
        segments.reduce(0) { total, segment in
            switch segment {
            case .literal: total + 4
            case .parameter: total + 2
            case .rest: total + 1
            }
        }
    }

    /// The captured parameters if `pathSegments` match.
    func match(_ pathSegments: [Substring]) -> [String: String]? {
        var parameters: [String: String] = [:]
        var index = 0
        for segment in segments {
            switch segment {
            case .literal(let literal):
                guard index < pathSegments.count, pathSegments[index] == literal else { return nil }
                index += 1
            case .parameter(let name):
                guard index < pathSegments.count else { return nil }
                parameters[name] = String(pathSegments[index])
                index += 1
            case .rest(let name):
                guard index < pathSegments.count else { return nil }
                parameters[name] = pathSegments[index...].joined(separator: "/")
                index = pathSegments.count
            }
        }
        return index == pathSegments.count ? parameters : nil
    }
}
