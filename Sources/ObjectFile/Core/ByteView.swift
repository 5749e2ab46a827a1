/// A bounds-checked, endian-aware window on part of a ``MappedFile``.
///
/// `origin` is where the window starts in the file, so errors report file offsets even for a slice
/// of a universal binary. The checked readers throw; the `unchecked` ones are for hot loops that
/// validated a whole table's range once with ``range(_:_:_:)``.
struct ByteView {
    let bytes: UnsafeRawBufferPointer
    let path: String
    let origin: UInt64
    let bigEndian: Bool

    init(bytes: UnsafeRawBufferPointer, path: String, origin: UInt64 = 0, bigEndian: Bool = false) {
        self.bytes = bytes
        self.path = path
        self.origin = origin
        self.bigEndian = bigEndian
    }

    var count: Int { bytes.count }

    /// The same bytes read with another byte order.
    func with(bigEndian: Bool) -> ByteView {
        ByteView(bytes: bytes, path: path, origin: origin, bigEndian: bigEndian)
    }

    /// A sub-window; `offset`/`length` must have been validated with ``range(_:_:_:)``.
    func slice(_ offset: Int, _ length: Int) -> ByteView {
        ByteView(
            bytes: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]),
            path: path, origin: origin + UInt64(offset), bigEndian: bigEndian)
    }

    /// Checks that `length` bytes at `offset` lie inside the view and returns the offset as `Int`.
    /// Overflow-safe for any 64-bit inputs.
    @inline(__always)
    func range(_ offset: UInt64, _ length: UInt64, _ what: @autoclosure () -> String) throws(ObjectFileError) -> Int {
        let size = UInt64(bytes.count)
        guard offset <= size, length <= size - offset else {
            throw truncated(what(), at: offset, expected: length)
        }
        return Int(offset)
    }

    /// Checks that `count` entries of `entrySize` bytes at `offset` fit, without overflowing; this is
    /// what keeps a header that claims 2^32 entries from making anyone allocate for them.
    func table(_ offset: UInt64, count: UInt64, entrySize: UInt64, _ what: @autoclosure () -> String) throws(ObjectFileError) -> Int {
        let (total, overflow) = count.multipliedReportingOverflow(by: entrySize)
        guard !overflow else {
            throw error(.malformed, what(), at: offset, expected: "a table that fits in the file",
                        found: "found \(count) entries of \(entrySize) bytes")
        }
        return try range(offset, total, what())
    }

    func truncated(_ what: String, at offset: UInt64, expected length: UInt64) -> ObjectFileError {
        let available = offset <= UInt64(bytes.count) ? UInt64(bytes.count) - offset : 0
        return ObjectFileError(
            .truncated, path: path, offset: origin &+ offset, what: "truncated \(what)",
            expected: "\(length) bytes", found: "\(available) available")
    }

    func error(
        _ code: ObjectFileError.Code, _ what: String, at offset: UInt64?, expected: String? = nil, found: String? = nil
    ) -> ObjectFileError {
        ObjectFileError(code, path: path, offset: offset.map { origin &+ $0 }, what: what, expected: expected, found: found)
    }

    // MARK: Checked reads

    func u8(_ offset: UInt64, _ what: @autoclosure () -> String) throws(ObjectFileError) -> UInt8 {
        u8(at: try range(offset, 1, what()))
    }

    func u16(_ offset: UInt64, _ what: @autoclosure () -> String) throws(ObjectFileError) -> UInt16 {
        u16(at: try range(offset, 2, what()))
    }

    func u32(_ offset: UInt64, _ what: @autoclosure () -> String) throws(ObjectFileError) -> UInt32 {
        u32(at: try range(offset, 4, what()))
    }

    func u64(_ offset: UInt64, _ what: @autoclosure () -> String) throws(ObjectFileError) -> UInt64 {
        u64(at: try range(offset, 8, what()))
    }

    // MARK: Unchecked reads (caller validated the range)

    @inline(__always)
    func u8(at offset: Int) -> UInt8 {
        bytes.load(fromByteOffset: offset, as: UInt8.self)
    }

    @inline(__always)
    func u16(at offset: Int) -> UInt16 {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        return bigEndian ? UInt16(bigEndian: raw) : UInt16(littleEndian: raw)
    }

    @inline(__always)
    func u32(at offset: Int) -> UInt32 {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }

    @inline(__always)
    func u64(at offset: Int) -> UInt64 {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        return bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)
    }

    /// A 32- or 64-bit word widened to 64 bits.
    @inline(__always)
    func word(at offset: Int, is64: Bool) -> UInt64 {
        is64 ? u64(at: offset) : UInt64(u32(at: offset))
    }

    /// A fixed-size, NUL-padded name field (Mach-O segment and section names).
    func fixedString(at offset: Int, length: Int) -> String {
        let field = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
        let end = field.firstIndex(of: 0) ?? length
        return String(decoding: UnsafeRawBufferPointer(rebasing: field[0..<end]), as: UTF8.self)
    }
}

/// A NUL-terminated string table (ELF `.strtab`, Mach-O string table) with bounded lookups.
struct StringTable {
    let view: ByteView
    /// Offset of the table in `view`; `size` bytes long (validated at construction).
    let start: Int
    let size: Int

    init(view: ByteView, offset: UInt64, size: UInt64, what: String) throws(ObjectFileError) {
        self.view = view
        start = try view.range(offset, size, what)
        self.size = Int(size)
    }

    /// The bytes of the string at `offset`, without the terminator; `nil` if `offset` is outside the
    /// table or the string runs off its end.
    @inline(__always)
    func bytes(at offset: UInt32) -> UnsafeRawBufferPointer? {
        let offset = Int(offset)
        guard offset < size, let base = view.bytes.baseAddress else {
            return offset == 0 && size == 0 ? UnsafeRawBufferPointer(start: nil, count: 0) : nil
        }
        let first = base + start + offset
        guard let length = nulIndex(first, size - offset) else { return nil }
        return UnsafeRawBufferPointer(start: first, count: length)
    }

    /// Like ``bytes(at:)`` but throws an error naming the referring entry.
    func string(at offset: UInt32, for what: @autoclosure () -> String, entryOffset: Int) throws(ObjectFileError) -> String {
        guard let raw = bytes(at: offset) else {
            throw invalidName(offset, for: what(), entryOffset: entryOffset)
        }
        return String(decoding: raw, as: UTF8.self)
    }

    func invalidName(_ offset: UInt32, for what: String, entryOffset: Int) -> ObjectFileError {
        if Int(offset) >= size {
            return view.error(
                .malformed, "\(what) name offset out of range", at: UInt64(entryOffset),
                expected: "an offset below the string table size \(size)", found: "found \(offset)")
        }
        return view.error(
            .malformed, "unterminated string in string table", at: UInt64(start + Int(offset)),
            expected: "a NUL byte before offset \(start + size)", found: "found none")
    }
}

/// Index of the first NUL in `count` bytes at `pointer`, scanning a word at a time.
@inline(__always)
func nulIndex(_ pointer: UnsafeRawPointer, _ count: Int) -> Int? {
    var index = 0
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    while index + 8 <= count {
        let word = UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: index, as: UInt64.self))
        let zeroBits = (word &- ones) & ~word & highs
        if zeroBits != 0 {
            return index + zeroBits.trailingZeroBitCount / 8
        }
        index += 8
    }
    while index < count {
        if pointer.load(fromByteOffset: index, as: UInt8.self) == 0 { return index }
        index += 1
    }
    return nil
}
