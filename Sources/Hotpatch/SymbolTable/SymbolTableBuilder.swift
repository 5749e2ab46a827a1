import ObjectFile

/// Accumulates symbols into column memory and the name index, then hands the memory to a
/// ``SymbolTableStorage``. Used once: after ``finish()`` the builder is empty.
final class SymbolTableBuilder {
    private var layout: SymbolColumnLayout
    private var columns: UnsafeMutableRawPointer
    private var names: UnsafeMutableRawPointer
    private var nameCapacity: Int
    private(set) var count = 0
    private var nameBytes = 0

    /// - Parameters: `capacity` rows and `nameBytes` of names to reserve (both grow if exceeded).
    init(capacity: Int, nameBytes: Int) {
        let rows = max(capacity, 1)
        layout = SymbolColumnLayout(rows: rows, hashCapacity: SymbolColumnLayout.hashCapacity(forRows: rows))
        columns = Self.allocateColumns(layout)
        nameCapacity = max(nameBytes, 64)
        names = UnsafeMutableRawPointer.allocate(byteCount: nameCapacity, alignment: 8)
    }

    deinit {
        columns.deallocate()
        names.deallocate()
    }

    private static func allocateColumns(_ layout: SymbolColumnLayout) -> UnsafeMutableRawPointer {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: layout.byteCount, alignment: 16)
        // Only the index must start zeroed (0 = empty slot); rows are written before they are read.
        (memory + layout.slots).initializeMemory(as: UInt32.self, repeating: 0, count: layout.hashCapacity)
        return memory
    }

    private func column<T>(_ offset: Int, _ type: T.Type) -> UnsafeMutablePointer<T> {
        (columns + offset).assumingMemoryBound(to: T.self)
    }

    /// Adds one symbol.
    ///
    /// - Throws: ``SymbolTableError`` if names exceed the 4 GiB the 32-bit offsets can address.
    func append(
        name: UnsafeRawBufferPointer, address: UInt64, size: UInt64, kind: SymbolKind, binding: SymbolBinding,
        sectionIndex: Int?, flags: ObjectSymbolFlags
    ) throws(SymbolTableError) {
        guard nameBytes + name.count <= Int(UInt32.max), count < Int(UInt32.max) - 1 else {
            throw SymbolTableError(.tooLarge, "symbol names exceed 4 GiB or entries exceed 2^32")
        }
        if count == layout.rows { grow() }
        if nameBytes + name.count > nameCapacity { growNames(needing: name.count) }
        let index = count
        if let source = name.baseAddress, name.count > 0 {
            (names + nameBytes).copyMemory(from: source, byteCount: name.count)
        }
        column(layout.addresses, UInt64.self)[index] = address
        column(layout.sizes, UInt64.self)[index] = size
        column(layout.nameOffsets, UInt32.self)[index] = UInt32(nameBytes)
        column(layout.nameLengths, UInt32.self)[index] = UInt32(name.count)
        column(layout.sectionIndices, UInt32.self)[index] =
            sectionIndex.flatMap { UInt32(exactly: $0) } ?? SymbolTableStorage.none
        column(layout.flags, UInt16.self)[index] = flags.rawValue
        column(layout.kinds, UInt8.self)[index] = kind.code
        column(layout.bindings, UInt8.self)[index] = binding.code
        nameBytes += name.count
        count += 1
        insertIntoIndex(index)
    }

    /// Links entry `index` into the name index: a new name takes an empty slot; a repeated name
    /// joins the chain of its slot, at the head if it ranks higher than the current head.
    private func insertIntoIndex(_ index: Int) {
        let offset = Int(column(layout.nameOffsets, UInt32.self)[index])
        let length = Int(column(layout.nameLengths, UInt32.self)[index])
        let name = UnsafeRawBufferPointer(start: names + offset, count: length)
        let hash = SymbolNameHash.hash(name)
        let tag = UInt32(truncatingIfNeeded: hash >> 32)
        let hashes = column(layout.nameHashes, UInt32.self)
        let next = column(layout.nextSameName, UInt32.self)
        let slots = column(layout.slots, UInt32.self)
        let offsets = column(layout.nameOffsets, UInt32.self)
        let lengths = column(layout.nameLengths, UInt32.self)
        let bindings = column(layout.bindings, UInt8.self)
        let flags = column(layout.flags, UInt16.self)
        hashes[index] = tag
        next[index] = SymbolTableStorage.none
        let mask = layout.hashCapacity - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = slots[slot]
            if stored == 0 {
                slots[slot] = UInt32(index + 1)
                return
            }
            let head = Int(stored - 1)
            let headName = UnsafeRawBufferPointer(start: names + Int(offsets[head]), count: Int(lengths[head]))
            if hashes[head] == tag, SymbolTableStorage.equal(headName, name) {
                let newRank = SymbolTableStorage.rank(binding: bindings[index], flags: flags[index])
                let headRank = SymbolTableStorage.rank(binding: bindings[head], flags: flags[head])
                if newRank > headRank {
                    next[index] = UInt32(head)
                    slots[slot] = UInt32(index + 1)
                } else {
                    next[index] = next[head]
                    next[head] = UInt32(index)
                }
                return
            }
            slot = (slot + 1) & mask
        }
    }

    private func grow() {
        let old = layout
        let rows = old.rows * 2
        let grown = SymbolColumnLayout(rows: rows, hashCapacity: SymbolColumnLayout.hashCapacity(forRows: rows))
        let memory = Self.allocateColumns(grown)
        func move(_ from: Int, _ to: Int, _ width: Int) {
            (memory + to).copyMemory(from: columns + from, byteCount: count * width)
        }
        move(old.addresses, grown.addresses, 8)
        move(old.sizes, grown.sizes, 8)
        move(old.nameOffsets, grown.nameOffsets, 4)
        move(old.nameLengths, grown.nameLengths, 4)
        move(old.sectionIndices, grown.sectionIndices, 4)
        move(old.flags, grown.flags, 2)
        move(old.kinds, grown.kinds, 1)
        move(old.bindings, grown.bindings, 1)
        columns.deallocate()
        columns = memory
        layout = grown
        for index in 0..<count { insertIntoIndex(index) }
    }

    private func growNames(needing extra: Int) {
        let needed = nameBytes + extra
        var capacity = nameCapacity
        while capacity < needed { capacity = min(capacity * 2, Int(UInt32.max)) }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        grown.copyMemory(from: names, byteCount: nameBytes)
        names.deallocate()
        names = grown
        nameCapacity = capacity
    }

    /// Hands the memory to a storage object; the builder is left empty.
    func finish() -> SymbolTableStorage {
        let storage = SymbolTableStorage(
            columns: columns, layout: layout, count: count, names: names, nameBlobSize: nameBytes,
            owner: .allocated(columns: .init(pointer: columns), names: .init(pointer: names)))
        // The storage now owns both allocations; give the builder fresh empty ones to free.
        layout = SymbolColumnLayout(rows: 1, hashCapacity: 16)
        columns = Self.allocateColumns(layout)
        names = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        nameCapacity = 64
        count = 0
        nameBytes = 0
        return storage
    }
}
