/// A growing byte buffer that appends fixed-width integers in one byte order: how the ELF writer
/// lays out a file and the editor spells the values it writes.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []
    let bigEndian: Bool

    init(bigEndian: Bool = false) {
        self.bigEndian = bigEndian
    }

    var count: Int { bytes.count }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        var ordered = bigEndian ? value.bigEndian : value.littleEndian
        withUnsafeBytes(of: &ordered) { bytes.append(contentsOf: $0) }
    }

    mutating func append(bytes more: [UInt8]) {
        bytes.append(contentsOf: more)
    }

    /// Pads with zeros until the length is a multiple of `alignment` (0 and 1: no padding).
    mutating func pad(toMultipleOf alignment: Int) {
        guard alignment > 1 else { return }
        let remainder = bytes.count % alignment
        if remainder != 0 { bytes.append(contentsOf: repeatElement(0, count: alignment - remainder)) }
    }

    /// `value` in `bigEndian` order, `T.bitWidth / 8` bytes.
    static func encode<T: FixedWidthInteger>(_ value: T, bigEndian: Bool) -> [UInt8] {
        var writer = ByteWriter(bigEndian: bigEndian)
        writer.append(value)
        return writer.bytes
    }
}
