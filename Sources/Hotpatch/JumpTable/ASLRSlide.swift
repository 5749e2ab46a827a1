/// How far the loader moved an executable: the difference between where the anchor symbol (the
/// executable's C `main`) runs in one process and its file address.
///
/// Arithmetic wraps modulo 2^64, so a slide "below" the file address (never seen in practice, but
/// possible for a non-PIE image with a strange reference) still round-trips exactly.
public struct ASLRSlide: Sendable, Hashable, Codable {
    /// The anchor's runtime address in the process (what `whisker_hot::aslr_reference()` reports).
    public var aslrReference: UInt64
    /// The anchor's file (unslid) address in the fat binary.
    public var anchorFileAddress: UInt64

    public init(aslrReference: UInt64, anchorFileAddress: UInt64) {
        self.aslrReference = aslrReference
        self.anchorFileAddress = anchorFileAddress
    }

    /// The slide itself: runtime address − file address.
    public var offset: UInt64 { aslrReference &- anchorFileAddress }

    public func runtimeAddress(ofFileAddress fileAddress: UInt64) -> UInt64 {
        fileAddress &+ offset
    }

    public func fileAddress(ofRuntimeAddress runtimeAddress: UInt64) -> UInt64 {
        runtimeAddress &- offset
    }
}

/// Addresses as they appear in JSON and on the command line: `"0x…"`, lowercase hex.
public enum HexAddress {
    /// `0x` followed by lowercase hex digits without leading zeros (`0x0` for zero).
    public static func format(_ address: UInt64) -> String {
        "0x" + String(address, radix: 16)
    }

    /// Parses `0x…` / `0X…` with 1–16 hex digits (either case); nil for anything else, including
    /// decimal, signs, blanks and values beyond 64 bits.
    public static func parse(_ text: String) -> UInt64? {
        guard text.hasPrefix("0x") || text.hasPrefix("0X") else { return nil }
        let digits = text.dropFirst(2)
        guard (1...16).contains(digits.count), digits.allSatisfy(\.isHexDigit) else { return nil }
        return UInt64(digits, radix: 16)
    }
}
