/// Lowercase hex, the one spelling of digests and ids in files, URLs and the API.
extension Sequence where Element == UInt8 {
    /// Two lowercase hex digits per byte (`sha256` digests, `ProjectLayout` keys).
    public var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
