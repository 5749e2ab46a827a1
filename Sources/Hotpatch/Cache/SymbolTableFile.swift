import ObjectFile

/// The `.wsym` file format: a `SymbolTable`'s memory written out as is, behind a checked header.
///
/// ```
/// 0    "WSYMTAB\0"                 magic
/// 8    u32 version, u32 byte-order mark (0x01020304 as written by the host)
/// 16   u32 header size (128), u32 reserved
/// 24   u64 payload size, u64 payload checksum (PayloadChecksum)
/// 40   32 bytes: sha256 of the binary the table was parsed from
/// 72   u64 entry count, u64 hash capacity, u64 name blob size, u64 metadata size
/// 104  16 bytes reserved (zero)
/// 120  u64 checksum of bytes 0..<120
/// 128  payload: metadata (architecture, format, sections, TLS …), zero padding to 8 bytes,
///      the columns in `SymbolColumnLayout(rows: count)` order, then the name blob
/// ```
/// Numbers are in host byte order; a file from a host of the other byte order fails the byte-order
/// check and is rebuilt. Loading maps the file and verifies both checksums and every size before
/// any byte is used, so damaged entries are detected instead of trusted.
enum SymbolTableFile {
    static let magic: [UInt8] = Array("WSYMTAB".utf8) + [0]
    static let version: UInt32 = 1
    static let byteOrderMark: UInt32 = 0x0102_0304
    static let headerSize = 128

    /// Why a cache file was not usable.
    struct Damage: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Writing

    static func encode(_ table: SymbolTable, binaryDigest: [UInt8]) -> [UInt8] {
        let storage = table.storage
        let count = storage.count
        let layout = SymbolColumnLayout(rows: count, hashCapacity: storage.hashCapacity)
        let meta = encodeMetadata(table)
        let columnsStart = (meta.count + 7) & ~7
        let payloadSize = columnsStart + layout.byteCount + storage.nameBlobSize
        var file = [UInt8](repeating: 0, count: headerSize + payloadSize)
        file.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            let payload = base + headerSize
            meta.withUnsafeBytes { if let source = $0.baseAddress { payload.copyMemory(from: source, byteCount: meta.count) } }
            let columns = payload + columnsStart
            withExtendedLifetime(storage) {
                func copy<T>(_ source: UnsafePointer<T>, to offset: Int) {
                    (columns + offset).copyMemory(from: source, byteCount: count * MemoryLayout<T>.stride)
                }
                copy(storage.addresses, to: layout.addresses)
                copy(storage.sizes, to: layout.sizes)
                copy(storage.nameOffsets, to: layout.nameOffsets)
                copy(storage.nameLengths, to: layout.nameLengths)
                copy(storage.nameHashes, to: layout.nameHashes)
                copy(storage.nextSameName, to: layout.nextSameName)
                copy(storage.sectionIndices, to: layout.sectionIndices)
                copy(storage.flags, to: layout.flags)
                copy(storage.kinds, to: layout.kinds)
                copy(storage.bindings, to: layout.bindings)
                (columns + layout.slots).copyMemory(from: storage.slots, byteCount: storage.hashCapacity * 4)
                (columns + layout.byteCount).copyMemory(from: storage.names, byteCount: storage.nameBlobSize)
            }
            let checksum = PayloadChecksum.compute(UnsafeRawBufferPointer(start: payload, count: payloadSize))
            var header = HeaderWriter(base)
            header.bytes(magic)
            header.u32(version)
            header.u32(byteOrderMark)
            header.u32(UInt32(headerSize))
            header.u32(0)
            header.u64(UInt64(payloadSize))
            header.u64(checksum)
            header.bytes(binaryDigest.count == 32 ? binaryDigest : [UInt8](repeating: 0, count: 32))
            header.u64(UInt64(count))
            header.u64(UInt64(storage.hashCapacity))
            header.u64(UInt64(storage.nameBlobSize))
            header.u64(UInt64(meta.count))
            header.offset = 120
            header.u64(PayloadChecksum.compute(UnsafeRawBufferPointer(start: base, count: 120)))
        }
        return file
    }

    private struct HeaderWriter {
        let base: UnsafeMutableRawPointer
        var offset = 0
        init(_ base: UnsafeMutableRawPointer) { self.base = base }

        mutating func u32(_ value: UInt32) {
            base.storeBytes(of: value, toByteOffset: offset, as: UInt32.self)
            offset += 4
        }

        mutating func u64(_ value: UInt64) {
            base.storeBytes(of: value, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }

        mutating func bytes(_ value: [UInt8]) {
            for byte in value {
                base.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
                offset += 1
            }
        }
    }

    // MARK: Reading

    /// Verifies and wraps a mapped `.wsym` file without copying its columns or names.
    static func decode(_ file: MappedFile, expectedDigest: [UInt8]) throws(Damage) -> SymbolTable {
        let bytes = file.unsafeBytes
        guard bytes.count >= headerSize, let base = bytes.baseAddress else {
            throw Damage("file is \(bytes.count) bytes, shorter than the \(headerSize)-byte header")
        }
        guard Array(bytes[0..<8]) == magic else { throw Damage("bad magic") }
        func u32(_ offset: Int) -> UInt32 { base.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        func u64(_ offset: Int) -> UInt64 { base.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        guard u32(8) == version else { throw Damage("version \(u32(8)), expected \(version)") }
        guard u32(12) == byteOrderMark else { throw Damage("written on a host of the other byte order") }
        guard u32(16) == UInt32(headerSize) else { throw Damage("header size \(u32(16))") }
        guard PayloadChecksum.compute(UnsafeRawBufferPointer(start: base, count: 120)) == u64(120) else {
            throw Damage("header checksum mismatch")
        }
        guard Array(bytes[40..<72]) == expectedDigest else { throw Damage("entry is for another binary") }
        let payloadSize = u64(24)
        guard payloadSize == UInt64(bytes.count - headerSize) else {
            throw Damage("payload is \(bytes.count - headerSize) bytes, header says \(payloadSize)")
        }
        let payload = UnsafeRawBufferPointer(start: base + headerSize, count: Int(payloadSize))
        guard PayloadChecksum.compute(payload) == u64(32) else { throw Damage("payload checksum mismatch") }

        // Sizes: each bounded by the payload before any arithmetic can overflow.
        let count = u64(72), hashCapacity = u64(80), nameBlobSize = u64(88), metaSize = u64(96)
        guard count <= payloadSize / UInt64(SymbolColumnLayout.bytesPerRow), count < UInt64(UInt32.max),
              hashCapacity <= payloadSize / 4, hashCapacity > count, hashCapacity.nonzeroBitCount == 1,
              nameBlobSize <= payloadSize, metaSize <= payloadSize
        else { throw Damage("implausible sizes in header") }
        let layout = SymbolColumnLayout(rows: Int(count), hashCapacity: Int(hashCapacity))
        let columnsStart = (Int(metaSize) + 7) & ~7
        guard columnsStart + layout.byteCount + Int(nameBlobSize) == Int(payloadSize) else {
            throw Damage("sections of the payload do not add up to its size")
        }
        var meta = MetadataReader(UnsafeRawBufferPointer(rebasing: payload[0..<Int(metaSize)]))
        let metadata = try meta.read()
        let columns = base + headerSize + columnsStart
        let storage = SymbolTableStorage(
            columns: columns, layout: layout, count: Int(count), names: columns + layout.byteCount,
            nameBlobSize: Int(nameBlobSize), owner: .mapped(file))
        return SymbolTable(
            storage: storage, architecture: metadata.architecture, format: metadata.format,
            fileType: metadata.fileType, sections: metadata.sections, tls: metadata.tls,
            fromDynamicSymbols: metadata.fromDynamicSymbols)
    }

    // MARK: Metadata

    private struct Metadata {
        var architecture: String
        var format: ObjectFormat
        var fileType: ObjectFileType
        var fromDynamicSymbols: Bool
        var tls: TLSSegment?
        var sections: [ObjectSection]
    }

    private static func encodeMetadata(_ table: SymbolTable) -> [UInt8] {
        var out: [UInt8] = []
        func u8(_ value: UInt8) { out.append(value) }
        func u32(_ value: UInt32) { withUnsafeBytes(of: value) { out.append(contentsOf: $0) } }
        func u64(_ value: UInt64) { withUnsafeBytes(of: value) { out.append(contentsOf: $0) } }
        func string(_ value: String) {
            u32(UInt32(value.utf8.count))
            out.append(contentsOf: value.utf8)
        }
        string(table.architecture)
        string(table.format.rawValue)
        string(table.fileType.rawValue)
        u8(table.fromDynamicSymbols ? 1 : 0)
        if let tls = table.tls {
            u8(1)
            u64(tls.address); u64(tls.fileSize); u64(tls.memSize); u64(tls.alignment)
        } else {
            u8(0)
        }
        u32(UInt32(table.sections.count))
        for section in table.sections {
            string(section.name)
            string(section.segment)
            u64(section.address); u64(section.size); u64(section.fileOffset); u64(section.fileSize)
            u8(section.flags.rawValue)
        }
        return out
    }

    private struct MetadataReader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func take(_ count: Int) throws(Damage) -> UnsafeRawBufferPointer {
            guard count >= 0, count <= bytes.count - offset else { throw Damage("metadata truncated") }
            defer { offset += count }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        }

        mutating func u8() throws(Damage) -> UInt8 { try take(1)[0] }
        mutating func u32() throws(Damage) -> UInt32 { try take(4).loadUnaligned(as: UInt32.self) }
        mutating func u64() throws(Damage) -> UInt64 { try take(8).loadUnaligned(as: UInt64.self) }
        mutating func string() throws(Damage) -> String {
            String(decoding: try take(Int(try u32())), as: UTF8.self)
        }

        mutating func read() throws(Damage) -> Metadata {
            let architecture = try string()
            guard let format = ObjectFormat(rawValue: try string()),
                  let fileType = ObjectFileType(rawValue: try string()) else { throw Damage("bad format in metadata") }
            let fromDynamic = try u8() == 1
            var tls: TLSSegment?
            if try u8() == 1 {
                tls = TLSSegment(address: try u64(), fileSize: try u64(), memSize: try u64(), alignment: try u64())
            }
            let sectionCount = Int(try u32())
            // Each section takes at least 41 bytes; bounds the loop by the metadata size.
            guard sectionCount <= (bytes.count - offset) / 41 else { throw Damage("section count exceeds metadata") }
            var sections: [ObjectSection] = []
            sections.reserveCapacity(sectionCount)
            for _ in 0..<sectionCount {
                let name = try string()
                let segment = try string()
                sections.append(ObjectSection(
                    name: name, segment: segment, address: try u64(), size: try u64(), fileOffset: try u64(),
                    fileSize: try u64(), flags: ObjectSection.Flags(rawValue: try u8())))
            }
            guard offset == bytes.count else { throw Damage("metadata has trailing bytes") }
            return Metadata(
                architecture: architecture, format: format, fileType: fileType, fromDynamicSymbols: fromDynamic,
                tls: tls, sections: sections)
        }
    }
}
