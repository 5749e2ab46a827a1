#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import ObjectFile

/// Where each column of a symbol table lives in one contiguous region, for `rows` entries and a
/// name index of `hashCapacity` slots. The same layout is used in memory and in `.wsym` files,
/// which is what lets the cache use a file's bytes without converting them.
struct SymbolColumnLayout: Equatable {
    let rows: Int
    let hashCapacity: Int

    var addresses: Int { 0 }
    var sizes: Int { rows * 8 }
    var nameOffsets: Int { rows * 16 }
    var nameLengths: Int { rows * 20 }
    var nameHashes: Int { rows * 24 }
    var nextSameName: Int { rows * 28 }
    var sectionIndices: Int { rows * 32 }
    var flags: Int { rows * 36 }
    var kinds: Int { rows * 38 }
    var bindings: Int { rows * 39 }
    var slots: Int { (rows * 40 + 7) & ~7 }
    /// Bytes of the column region (the name blob is separate).
    var byteCount: Int { slots + hashCapacity * 4 }

    /// Bytes per row across all columns; the on-disk reader uses it to bound `rows` by file size.
    static let bytesPerRow = 40

    /// A power of two at least 1.5 × `rows`: a load factor ≤ 2/3 keeps linear probe chains short
    /// while keeping the index (which every cache load checksums) small.
    static func hashCapacity(forRows rows: Int) -> Int {
        var capacity = 16
        while capacity < rows + rows / 2 { capacity <<= 1 }
        return capacity
    }
}

/// The memory behind a ``SymbolTable``: typed pointers to columns in one region, plus a name
/// blob. Immutable once built; owns (or keeps mapped) what the pointers point into.
final class SymbolTableStorage: Sendable {
    /// "No section" / "no next entry" marker in the 32-bit index columns.
    static let none = UInt32.max

    let count: Int
    let hashCapacity: Int
    let nameBlobSize: Int

    nonisolated(unsafe) let addresses: UnsafePointer<UInt64>
    nonisolated(unsafe) let sizes: UnsafePointer<UInt64>
    nonisolated(unsafe) let nameOffsets: UnsafePointer<UInt32>
    nonisolated(unsafe) let nameLengths: UnsafePointer<UInt32>
    nonisolated(unsafe) let nameHashes: UnsafePointer<UInt32>
    nonisolated(unsafe) let nextSameName: UnsafePointer<UInt32>
    nonisolated(unsafe) let sectionIndices: UnsafePointer<UInt32>
    nonisolated(unsafe) let flags: UnsafePointer<UInt16>
    nonisolated(unsafe) let kinds: UnsafePointer<UInt8>
    nonisolated(unsafe) let bindings: UnsafePointer<UInt8>
    /// Open-addressing index: 0 = empty, else entry index + 1 of the best entry with that name.
    nonisolated(unsafe) let slots: UnsafePointer<UInt32>
    nonisolated(unsafe) let names: UnsafeRawPointer

    private let owner: Owner
    /// Lookups derived from the columns once (``SymbolSecondaryIndex``); nil until built or loaded.
    let secondary = Locked<SymbolSecondaryIndex?>(nil)

    /// What keeps the memory alive.
    enum Owner: Sendable {
        /// Allocated by a builder; freed in `deinit`.
        case allocated(columns: Allocation, names: Allocation)
        /// Bytes of a mapped cache file.
        case mapped(MappedFile)
    }

    /// An `UnsafeMutableRawPointer` allocation that only its storage frees.
    struct Allocation: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
    }

    /// - Parameters: `columns` laid out as `layout` (whose `rows` may exceed `count`), `names` of
    ///   `nameBlobSize` bytes.
    init(columns: UnsafeRawPointer, layout: SymbolColumnLayout, count: Int, names: UnsafeRawPointer, nameBlobSize: Int, owner: Owner) {
        self.count = count
        hashCapacity = layout.hashCapacity
        self.nameBlobSize = nameBlobSize
        addresses = (columns + layout.addresses).assumingMemoryBound(to: UInt64.self)
        sizes = (columns + layout.sizes).assumingMemoryBound(to: UInt64.self)
        nameOffsets = (columns + layout.nameOffsets).assumingMemoryBound(to: UInt32.self)
        nameLengths = (columns + layout.nameLengths).assumingMemoryBound(to: UInt32.self)
        nameHashes = (columns + layout.nameHashes).assumingMemoryBound(to: UInt32.self)
        nextSameName = (columns + layout.nextSameName).assumingMemoryBound(to: UInt32.self)
        sectionIndices = (columns + layout.sectionIndices).assumingMemoryBound(to: UInt32.self)
        flags = (columns + layout.flags).assumingMemoryBound(to: UInt16.self)
        kinds = (columns + layout.kinds).assumingMemoryBound(to: UInt8.self)
        bindings = (columns + layout.bindings).assumingMemoryBound(to: UInt8.self)
        slots = (columns + layout.slots).assumingMemoryBound(to: UInt32.self)
        self.names = names
        self.owner = owner
    }

    deinit {
        if case .allocated(let columns, let names) = owner {
            columns.pointer.deallocate()
            names.pointer.deallocate()
        }
    }

    /// The name bytes of entry `index` (valid while `self` is alive). Clamped to the blob, so a
    /// damaged table loaded from disk can give a wrong name but never read out of bounds.
    @inline(__always)
    func nameBytes(_ index: Int) -> UnsafeRawBufferPointer {
        let offset = Int(nameOffsets[index])
        let length = Int(nameLengths[index])
        guard offset <= nameBlobSize, length <= nameBlobSize - offset else {
            return UnsafeRawBufferPointer(start: names, count: 0)
        }
        return UnsafeRawBufferPointer(start: names + offset, count: length)
    }

    /// Index of the best entry named `name` (see ``SymbolTable/lookup(_:)``).
    func find(_ name: UnsafeRawBufferPointer) -> Int? {
        let hash = SymbolNameHash.hash(name)
        let tag = UInt32(truncatingIfNeeded: hash >> 32)
        let mask = hashCapacity - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        for _ in 0..<hashCapacity {
            let stored = slots[slot]
            if stored == 0 { return nil }
            let index = Int(stored - 1)
            if index < count, nameHashes[index] == tag, Self.equal(nameBytes(index), name) {
                return index
            }
            slot = (slot + 1) & mask
        }
        return nil
    }

    @inline(__always)
    static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard let left = a.baseAddress, let right = b.baseAddress else { return true }
        return memcmp(left, right, a.count) == 0
    }

    /// Rank used to pick which of several same-named entries a lookup returns.
    @inline(__always)
    static func rank(binding: UInt8, flags: UInt16) -> Int {
        guard flags & ObjectSymbolFlags.undefined.rawValue == 0 else { return 0 }
        switch SymbolBinding(code: binding) {
        case .global: return 3
        case .weak: return 2
        case .local: return 1
        }
    }
}
