/// A growing byte buffer that appends fixed-width integers in little-endian order: how the stub's
/// trampolines spell their instructions and embedded addresses (x86_64 and aarch64 are
/// little-endian on Linux and Android).
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
}
