/// The hash that places symbol names in a ``SymbolTable``'s index.
///
/// Deterministic across processes and machines (unlike `Hasher`), because the index is stored in
/// cache files as is. Reads eight bytes at a time: names in Rust binaries average ~100 bytes.
enum SymbolNameHash {
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard let base = bytes.baseAddress else { return mix(0x9e37_79b9_7f4a_7c15) }
        return hash(base, bytes.count)
    }

    @inline(__always)
    static func hash(_ base: UnsafeRawPointer, _ count: Int) -> UInt64 {
        let multiplier: UInt64 = 0x9e37_79b9_7f4a_7c15
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (UInt64(count) &* multiplier)
        var offset = 0
        while offset + 8 <= count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            h = (h ^ word) &* multiplier
            h ^= h >> 31
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
            h = (h ^ tail) &* multiplier
        }
        return mix(h)
    }

    /// Final avalanche (from MurmurHash3's fmix64) so both halves are usable.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }
}
