import Foundation

/// Identifies one fat build: `"b" + UTC yyyyMMdd-HHmmss + "-" + 6 hex`, e.g. `b20261125-061500-a1b2c3`.
/// Sorts by time; the random tail keeps two builds in the same second apart.
public struct BuildID: Hashable, Codable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: String

    /// Accepts only the documented shape, so a build id taken from a URL or CLI argument can't name
    /// a path outside the builds directory.
    public init?(_ rawValue: String) {
        let bytes = Array(rawValue.utf8)
        guard bytes.count == 23, bytes[0] == UInt8(ascii: "b"), bytes[9] == UInt8(ascii: "-"),
              bytes[16] == UInt8(ascii: "-") else { return nil }
        let isDigit = { (b: UInt8) in b >= 0x30 && b <= 0x39 }
        let isHex = { (b: UInt8) in isDigit(b) || (b >= 0x61 && b <= 0x66) }
        guard bytes[1..<9].allSatisfy(isDigit), bytes[10..<16].allSatisfy(isDigit),
              bytes[17...].allSatisfy(isHex) else { return nil }
        self.rawValue = rawValue
    }

    /// A new id for a build starting at `date`.
    public static func make(date: Date = Date()) -> BuildID {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let stamp = pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "-" + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2)
        let tail = randomHex(count: 6)
        // The format above always satisfies the validating initialiser.
        return BuildID(uncheckedRawValue: "b\(stamp)-\(tail)")
    }

    private init(uncheckedRawValue: String) { rawValue = uncheckedRawValue }

    public var description: String { rawValue }
    public static func < (lhs: BuildID, rhs: BuildID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = BuildID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a build id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// `count` lowercase hex digits from the system's secure random source.
func randomHex(count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    let digits = Array("0123456789abcdef")
    return String((0..<count).map { _ in digits[Int(generator.next() % 16)] })
}
