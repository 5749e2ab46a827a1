#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// Lookups the name index cannot answer, precomputed once per table so that a patch asks them in
/// O(1) or O(log n) instead of passing over every symbol of a 60k-symbol fat binary.
///
/// - functions named `<name>.llvm.<digits>` (ThinLTO's promotion suffix) by `<name>`: the jump
///   table and entry patches must find the old copy of a function the patch defines under the plain
///   name, and the name index only knows full names;
/// - the distinct start addresses of defined functions, ascending: an entry patch may cover a
///   function's alignment padding up to the next function.
///
/// Built by one pass over the table (``build(from:)``), kept with the table's storage for the
/// process, and persisted beside the cached table by ``HotpatchModuleCache`` (it is per binary,
/// like the table), so a patch of a cached build never makes that pass.
struct SymbolSecondaryIndex: Sendable, Equatable {
    /// Table indices of the defined functions whose name contains `.llvm.`, ascending.
    var ltoSuffixedIndices: [UInt32]
    /// Those indices by their name without the suffix (``JumpTable/withoutLTOSuffix(_:)``).
    var ltoSuffixedByName: [String: [Int]]
    /// Distinct file addresses of defined functions, ascending.
    var functionStarts: [UInt64]

    init(ltoSuffixedIndices: [UInt32], functionStarts: [UInt64], table: SymbolTable) {
        self.ltoSuffixedIndices = ltoSuffixedIndices
        self.functionStarts = functionStarts
        var byName: [String: [Int]] = [:]
        for index in ltoSuffixedIndices {
            byName[JumpTable.withoutLTOSuffix(table.name(at: Int(index))), default: []].append(Int(index))
        }
        ltoSuffixedByName = byName
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.ltoSuffixedIndices == rhs.ltoSuffixedIndices && lhs.functionStarts == rhs.functionStarts
    }

    /// The one pass over `table`.
    static func build(from table: SymbolTable) -> SymbolSecondaryIndex {
        var suffixed: [UInt32] = []
        var starts: [UInt64] = []
        starts.reserveCapacity(table.count / 2)
        for index in table.indices where table.isDefined(at: index) && table.kind(at: index) == .function {
            starts.append(table.address(at: index))
            if table.withNameBytes(at: index, LTOSuffix.containsMarker) { suffixed.append(UInt32(index)) }
        }
        starts.sort()
        var unique: [UInt64] = []
        unique.reserveCapacity(starts.count)
        for start in starts where unique.last != start { unique.append(start) }
        return SymbolSecondaryIndex(ltoSuffixedIndices: suffixed, functionStarts: unique, table: table)
    }

    /// The first function start strictly above `address`, if any.
    func functionStart(after address: UInt64) -> UInt64? {
        var lower = 0
        var upper = functionStarts.count
        while lower < upper {
            let middle = (lower + upper) / 2
            if functionStarts[middle] <= address { lower = middle + 1 } else { upper = middle }
        }
        return lower < functionStarts.count ? functionStarts[lower] : nil
    }
}

/// ThinLTO's `.llvm.<digits>` suffix, on bytes: `String.range(of:)` goes through Foundation's
/// `NSString` on Linux and cost ~50 ms over a 43k-symbol binary.
enum LTOSuffix {
    static let marker: [UInt8] = Array(".llvm.".utf8)

    /// Whether `bytes` contain `.llvm.` anywhere.
    static func containsMarker(_ bytes: UnsafeRawBufferPointer) -> Bool {
        lastMarker(in: bytes) != nil
    }

    /// Offset of the last `.llvm.` in `bytes`.
    static func lastMarker(in bytes: UnsafeRawBufferPointer) -> Int? {
        let length = marker.count
        guard bytes.count >= length else { return nil }
        var start = bytes.count - length
        while start >= 0 {
            if bytes[start] == 0x2E, bytes[start + 1] == 0x6C, bytes[start + 2] == 0x6C, bytes[start + 3] == 0x76,
               bytes[start + 4] == 0x6D, bytes[start + 5] == 0x2E {
                return start
            }
            start -= 1
        }
        return nil
    }

    /// The length of `bytes` without a trailing `.llvm.<one or more ASCII digits>`, or nil when
    /// the last `.llvm.` is not followed by digits only.
    static func strippedLength(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let start = lastMarker(in: bytes) else { return nil }
        let digits = start + marker.count
        guard digits < bytes.count else { return nil }
        for position in digits..<bytes.count where !(0x30...0x39).contains(bytes[position]) { return nil }
        return start
    }
}

extension SymbolTable {
    /// The table's ``SymbolSecondaryIndex``: the one installed by the cache, else built now (one
    /// pass) and kept for the table's lifetime.
    var secondaryIndex: SymbolSecondaryIndex {
        storage.secondary.withLock { stored in
            if let stored { return stored }
            let built = SymbolSecondaryIndex.build(from: self)
            stored = built
            return built
        }
    }

    /// The secondary index if one was built or installed, without building it.
    var existingSecondaryIndex: SymbolSecondaryIndex? { storage.secondary.withLock { $0 } }

    /// Installs an index loaded from the cache (see ``HotpatchModuleCache``).
    func install(_ index: SymbolSecondaryIndex) {
        storage.secondary.withLock { if $0 == nil { $0 = index } }
    }
}

/// The `.widx` file beside a `.wsym` entry: a ``SymbolSecondaryIndex`` behind a checked header.
///
/// ```
/// 0    "WSYMIDX\0"                 magic
/// 8    u32 version, u32 byte-order mark
/// 16   u64 payload size, u64 payload checksum (PayloadChecksum)
/// 32   u64 entry count of the table it indexes
/// 40   32 bytes: sha256 of the binary
/// 72   payload: u64 n, n × u32 suffixed indices, zero padding to 8, u64 m, m × u64 starts
/// ```
enum SymbolIndexFile {
    static let magic: [UInt8] = Array("WSYMIDX".utf8) + [0]
    static let version: UInt32 = 1
    static let headerSize = 72

    static func encode(_ index: SymbolSecondaryIndex, tableCount: Int, binaryDigest: [UInt8]) -> [UInt8] {
        var payload: [UInt8] = []
        func u64(_ value: UInt64) { withUnsafeBytes(of: value) { payload.append(contentsOf: $0) } }
        u64(UInt64(index.ltoSuffixedIndices.count))
        index.ltoSuffixedIndices.withUnsafeBytes { payload.append(contentsOf: $0) }
        while payload.count % 8 != 0 { payload.append(0) }
        u64(UInt64(index.functionStarts.count))
        index.functionStarts.withUnsafeBytes { payload.append(contentsOf: $0) }
        var header: [UInt8] = magic
        func headerU32(_ value: UInt32) { withUnsafeBytes(of: value) { header.append(contentsOf: $0) } }
        func headerU64(_ value: UInt64) { withUnsafeBytes(of: value) { header.append(contentsOf: $0) } }
        headerU32(version)
        headerU32(SymbolTableFile.byteOrderMark)
        headerU64(UInt64(payload.count))
        headerU64(payload.withUnsafeBytes { PayloadChecksum.compute($0) })
        headerU64(UInt64(tableCount))
        header += binaryDigest.prefix(32) + [UInt8](repeating: 0, count: max(0, 32 - binaryDigest.count))
        return header + payload
    }

    /// The index in `bytes` for `table`, or nil when the file is damaged or for another table.
    static func decode(_ bytes: UnsafeRawBufferPointer, table: SymbolTable, binaryDigest: [UInt8]) -> SymbolSecondaryIndex? {
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == magic else { return nil }
        func u32(_ offset: Int) -> UInt32 { bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        func u64(_ offset: Int) -> UInt64 { bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        guard u32(8) == version, u32(12) == SymbolTableFile.byteOrderMark, u64(32) == UInt64(table.count),
              Array(bytes[40..<72]) == binaryDigest, u64(16) == UInt64(bytes.count - headerSize)
        else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[headerSize...])
        guard PayloadChecksum.compute(payload) == u64(24), payload.count >= 8 else { return nil }
        let suffixedCount = payload.loadUnaligned(as: UInt64.self)
        guard suffixedCount <= UInt64(payload.count / 4) else { return nil }
        let startsOffset = (8 + Int(suffixedCount) * 4 + 7) & ~7
        guard startsOffset + 8 <= payload.count else { return nil }
        let startCount = payload.loadUnaligned(fromByteOffset: startsOffset, as: UInt64.self)
        guard startCount <= UInt64(payload.count / 8), startsOffset + 8 + Int(startCount) * 8 == payload.count else { return nil }
        var suffixed: [UInt32] = []
        suffixed.reserveCapacity(Int(suffixedCount))
        for position in 0..<Int(suffixedCount) {
            let index = payload.loadUnaligned(fromByteOffset: 8 + position * 4, as: UInt32.self)
            // Every index must name a function the table defines, or the file is not trusted.
            guard Int(index) < table.count, table.isDefined(at: Int(index)), table.kind(at: Int(index)) == .function else { return nil }
            suffixed.append(index)
        }
        let starts = [UInt64](unsafeUninitializedCapacity: Int(startCount)) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: payload[(startsOffset + 8)...]))
            initialized = Int(startCount)
        }
        return SymbolSecondaryIndex(ltoSuffixedIndices: suffixed, functionStarts: starts, table: table)
    }
}
