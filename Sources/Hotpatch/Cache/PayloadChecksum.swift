import Dispatch

/// The 64-bit checksum that guards `.wsym` cache files against corruption and truncation.
///
/// Not cryptographic: it only has to notice damage, at memory speed, because it runs on every
/// cache load. The input is cut into four equal parts (a fixed number, so the result does not
/// depend on the machine) that are checksummed in parallel — one core cannot read memory as fast
/// as two — and the part results and the length are mixed in order. Within a part, eight
/// independent lanes each absorb 8-byte words with xor, rotate and multiply by an odd constant;
/// every step is a bijection of the lane, so any change confined to one word always changes that
/// part's result.
enum PayloadChecksum {
    private static let prime: UInt64 = 0x9e37_79b1_85eb_ca87
    static let parts = 4
    /// Below this size the parts are computed on the calling thread.
    static let parallelThreshold = 1 << 20

    static func compute(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let count = bytes.count
        let partSize = ((count / parts) + 63) & ~63
        var results = [UInt64](repeating: 0, count: parts)
        if let base = bytes.baseAddress {
            if count < parallelThreshold {
                for index in 0..<parts { results[index] = part(base, index, partSize, count) }
            } else {
                results.withUnsafeMutableBufferPointer { slots in
                    // The input outlives the call and each iteration writes only its own slot.
                    nonisolated(unsafe) let output = slots
                    nonisolated(unsafe) let input = base
                    DispatchQueue.concurrentPerform(iterations: parts) { index in
                        output[index] = part(input, index, partSize, count)
                    }
                }
            }
        }
        var h = UInt64(count) &* prime
        for result in results {
            h = (h ^ result) &* prime
            h = (h << 31) | (h >> 33)
        }
        return SymbolNameHash.mix(h)
    }

    private static func part(_ base: UnsafeRawPointer, _ index: Int, _ partSize: Int, _ count: Int) -> UInt64 {
        let start = Swift.min(index * partSize, count)
        let end = Swift.min(start + partSize, count)
        return chunk(UnsafeRawBufferPointer(start: base + start, count: end - start))
    }

    /// The checksum of one chunk.
    private static func chunk(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard let base = bytes.baseAddress else { return finish([UInt64](repeating: 0, count: 8), length: 0) }
        let count = bytes.count
        var a0: UInt64 = 0x243f_6a88_85a3_08d3, a1: UInt64 = 0x1319_8a2e_0370_7344
        var a2: UInt64 = 0xa409_3822_299f_31d0, a3: UInt64 = 0x082e_fa98_ec4e_6c89
        var a4: UInt64 = 0x4528_21e6_38d0_1377, a5: UInt64 = 0xbe54_66cf_34e9_0c6c
        var a6: UInt64 = 0xc0ac_29b7_c97c_50dd, a7: UInt64 = 0x3f84_d5b5_b547_0917
        var offset = 0
        while offset + 64 <= count {
            a0 = step(a0, word(base, offset))
            a1 = step(a1, word(base, offset + 8))
            a2 = step(a2, word(base, offset + 16))
            a3 = step(a3, word(base, offset + 24))
            a4 = step(a4, word(base, offset + 32))
            a5 = step(a5, word(base, offset + 40))
            a6 = step(a6, word(base, offset + 48))
            a7 = step(a7, word(base, offset + 56))
            offset += 64
        }
        var lanes = [a0, a1, a2, a3, a4, a5, a6, a7]
        var lane = 0
        while offset + 8 <= count {
            lanes[lane] = step(lanes[lane], word(base, offset))
            lane += 1
            offset += 8
        }
        if offset < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                tail |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) << shift
                shift += 8
                offset += 1
            }
            lanes[lane] = step(lanes[lane], tail)
        }
        return finish(lanes, length: count)
    }

    @inline(__always)
    private static func word(_ base: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    private static func step(_ lane: UInt64, _ word: UInt64) -> UInt64 {
        // Rotate before multiplying: after it, the compiler folds the rotate into a second multiply.
        let mixed = lane ^ word
        return ((mixed << 29) | (mixed >> 35)) &* prime
    }

    private static func finish(_ lanes: [UInt64], length: Int) -> UInt64 {
        var h = UInt64(length) &* prime
        for (index, lane) in lanes.enumerated() {
            h = (h ^ SymbolNameHash.mix(lane &+ UInt64(index))) &* prime
            h = (h << 31) | (h >> 33)
        }
        return SymbolNameHash.mix(h)
    }
}
