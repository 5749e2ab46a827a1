/// A bounds-checked reader over one DWARF section's bytes (little-endian, as on every target we
/// build for). Debug info is input like any other: a truncated or corrupt section is an
/// ``ObjectFileError``, never an out-of-range read.
struct DWARFCursor {
    let bytes: [UInt8]
    let path: String
    let section: String
    var offset: Int

    init(bytes: [UInt8], path: String, section: String, offset: Int = 0) {
        self.bytes = bytes
        self.path = path
        self.section = section
        self.offset = offset
    }

    var atEnd: Bool { offset >= bytes.count }

    func error(_ what: String) -> ObjectFileError {
        ObjectFileError(.malformed, path: path, offset: UInt64(max(offset, 0)), what: "\(section): \(what)")
    }

    private mutating func take(_ count: Int) throws(ObjectFileError) -> Int {
        guard count >= 0, offset >= 0, offset <= bytes.count, bytes.count - offset >= count else {
            throw ObjectFileError(
                .truncated, path: path, offset: UInt64(max(offset, 0)), what: "\(section) entry",
                expected: "\(count) bytes", found: "\(max(bytes.count - offset, 0)) available")
        }
        defer { offset += count }
        return offset
    }

    mutating func skip(_ count: Int) throws(ObjectFileError) { _ = try take(count) }

    mutating func u8() throws(ObjectFileError) -> UInt8 { bytes[try take(1)] }

    mutating func unsigned(_ size: Int) throws(ObjectFileError) -> UInt64 {
        let start = try take(size)
        var value: UInt64 = 0
        for index in (0..<size).reversed() { value = value << 8 | UInt64(bytes[start + index]) }
        return value
    }

    mutating func uleb() throws(ObjectFileError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try u8()
            if shift < 64 { value |= UInt64(byte & 0x7f) << shift }
            if byte & 0x80 == 0 { return value }
            shift += 7
            guard shift < 640 else { throw error("LEB128 number too long") }
        }
    }

    mutating func sleb() throws(ObjectFileError) -> Int64 {
        var value: Int64 = 0
        var shift: Int64 = 0
        var byte: UInt8
        repeat {
            byte = try u8()
            if shift < 64 { value |= Int64(byte & 0x7f) << shift }
            shift += 7
            guard shift < 640 else { throw error("LEB128 number too long") }
        } while byte & 0x80 != 0
        if shift < 64, byte & 0x40 != 0 { value |= -(Int64(1) << shift) }
        return value
    }

    /// A NUL-terminated string at the cursor.
    mutating func cString() throws(ObjectFileError) -> String {
        guard offset >= 0, offset <= bytes.count, let end = bytes[offset...].firstIndex(of: 0) else {
            throw ObjectFileError(.truncated, path: path, offset: UInt64(max(offset, 0)), what: "\(section) string", expected: "a NUL terminator")
        }
        defer { offset = end + 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    /// The NUL-terminated string at `position` of a string section (`.debug_str`, …).
    static func string(in bytes: [UInt8], at position: UInt64, path: String, section: String) throws(ObjectFileError) -> String {
        var cursor = DWARFCursor(bytes: bytes, path: path, section: section)
        guard position < UInt64(bytes.count) else {
            throw ObjectFileError(.malformed, path: path, offset: position, what: "\(section): string offset past the section's end (\(bytes.count) bytes)")
        }
        cursor.offset = Int(position)
        return try cursor.cString()
    }
}
