import Foundation

/// Assembles a universal Mach-O from thin images (llvm-lipo is not installed here).
enum UniversalBuilder {
    /// `slices`: (cputype, cpusubtype, bytes). Slices are 4 KiB aligned, like lipo does.
    static func make(_ slices: [(cpuType: UInt32, cpuSubtype: UInt32, bytes: [UInt8])], use64BitTable: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        func be32(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { output.append(contentsOf: $0) } }
        func be64(_ value: UInt64) { withUnsafeBytes(of: value.bigEndian) { output.append(contentsOf: $0) } }
        be32(use64BitTable ? 0xcafe_babf : 0xcafe_babe)
        be32(UInt32(slices.count))
        let alignment = 12
        var offset = 4096
        var offsets: [Int] = []
        for slice in slices {
            offsets.append(offset)
            offset += (slice.bytes.count + 4095) / 4096 * 4096
        }
        for (slice, sliceOffset) in zip(slices, offsets) {
            be32(slice.cpuType)
            be32(slice.cpuSubtype)
            if use64BitTable {
                be64(UInt64(sliceOffset))
                be64(UInt64(slice.bytes.count))
                be32(UInt32(alignment))
                be32(0)
            } else {
                be32(UInt32(sliceOffset))
                be32(UInt32(slice.bytes.count))
                be32(UInt32(alignment))
            }
        }
        for (slice, sliceOffset) in zip(slices, offsets) {
            output.append(contentsOf: repeatElement(0, count: sliceOffset - output.count))
            output.append(contentsOf: slice.bytes)
        }
        return output
    }

    static let x86_64: (UInt32, UInt32) = (0x0100_0007, 3)
    static let arm64: (UInt32, UInt32) = (0x0100_000c, 0)
}
