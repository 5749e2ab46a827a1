/// A growing byte buffer that appends fixed-width integers in little-endian order: the byte
/// order of every ELF file the stub is written as (x86_64 and aarch64 Linux/Android).
struct StubByteWriter {
    private(set) var bytes: [UInt8] = []

    var count: Int { bytes.count }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        var little = value.littleEndian
        withUnsafeBytes(of: &little) { bytes.append(contentsOf: $0) }
    }

    mutating func append(bytes more: [UInt8]) {
        bytes.append(contentsOf: more)
    }

    /// Pads with `fill` until the length is a multiple of `alignment`.
    mutating func pad(toMultipleOf alignment: Int, with fill: UInt8 = 0) {
        let remainder = bytes.count % alignment
        if remainder != 0 { bytes.append(contentsOf: repeatElement(fill, count: alignment - remainder)) }
    }
}
