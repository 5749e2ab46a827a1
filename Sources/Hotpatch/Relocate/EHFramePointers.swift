/// The absolute (`DW_EH_PE_absptr`) personality and LSDA pointers of an `.eh_frame` section.
///
/// With `-Ccode-model=large -Crelocation-model=static`, LLVM encodes a CIE's personality routine
/// and every FDE's LSDA as 8-byte absolute addresses (`R_X86_64_64`). lld refuses those in a
/// shared library (it won't emit dynamic relocations into `.eh_frame`), so the relocate stage
/// re-encodes them pc-relative — also 8 bytes, so nothing moves — and turns their relocations
/// into `R_X86_64_PC64`: an LSDA (in the patch) as `DW_EH_PE_pcrel | DW_EH_PE_sdata8`, the
/// personality (in the executable) additionally `DW_EH_PE_indirect`, through a slot the loader
/// fills. A null LSDA stays null under either encoding (the unwinder adds no base to 0).
struct EHFramePointers: Equatable {
    /// `DW_EH_PE_absptr`.
    static let absolute: UInt8 = 0x00
    /// `DW_EH_PE_pcrel | DW_EH_PE_sdata8`.
    static let pcRelative64: UInt8 = 0x1c
    /// `DW_EH_PE_indirect | DW_EH_PE_pcrel | DW_EH_PE_sdata8`.
    static let indirectPCRelative64: UInt8 = 0x9c
    static let omitted: UInt8 = 0xff

    /// Absolute personality pointers: section offset of the 8-byte field → of its encoding byte.
    var personalityFields: [Int: Int] = [:]
    /// Section offsets of `L` encoding bytes that say absptr.
    var lsdaEncodingBytes: [Int] = []
    /// Section offsets of the 8-byte LSDA pointers of FDEs whose CIE says absptr.
    var lsdaFields: Set<Int> = []

    struct Malformed: Error {
        let reason: String
    }

    /// Scans `section` (the bytes of `.eh_frame`). Records in the 64-bit DWARF format and CIEs
    /// with augmentations this scanner doesn't know are skipped: their pointers stay as they are.
    init(section bytes: [UInt8]) throws(Malformed) {
        var cies: [Int: CIE] = [:]
        var position = 0
        while position + 4 <= bytes.count {
            var cursor = Cursor(bytes: bytes, position: position)
            let length = try cursor.u32()
            if length == 0 { break }  // terminator
            if length == 0xffff_ffff {
                // 64-bit DWARF: LLVM never emits it for .eh_frame; skip the record whole.
                let long = try cursor.u64()
                guard long <= UInt64(bytes.count) else { throw Malformed(reason: "an .eh_frame record overruns the section") }
                position = cursor.position + Int(long)
                continue
            }
            let contentStart = cursor.position
            let end = contentStart + Int(length)
            guard end <= bytes.count else {
                throw Malformed(reason: ".eh_frame record at \(position) is \(length) bytes, past the section end")
            }
            let identifier = try cursor.u32()
            if identifier == 0 {
                if let cie = try CIE(cursor: &cursor, end: end) {
                    cies[position] = cie
                    if cie.personalityEncoding == Self.absolute, let encoding = cie.personalityEncodingOffset,
                       let field = cie.personalityField {
                        personalityFields[field] = encoding
                    }
                    if cie.lsdaEncoding == Self.absolute, let encoding = cie.lsdaEncodingOffset {
                        lsdaEncodingBytes.append(encoding)
                    }
                }
            } else {
                // The CIE pointer counts back from the identifier field itself.
                let ciePosition = contentStart - Int(identifier)
                if let cie = cies[ciePosition], cie.lsdaEncoding == Self.absolute, cie.hasAugmentationData {
                    let pointerSize = try Self.fixedSize(of: cie.fdeEncoding)
                    try cursor.skip(2 * pointerSize)  // pc_begin, pc_range
                    _ = try cursor.uleb()  // augmentation data length
                    guard cursor.position + 8 <= end else { throw Malformed(reason: "an FDE's LSDA pointer overruns its record") }
                    lsdaFields.insert(cursor.position)
                }
            }
            position = end
        }
    }

    /// The byte size of a pointer in encoding `encoding` when it is fixed (every FDE address is).
    static func fixedSize(of encoding: UInt8) throws(Malformed) -> Int {
        switch encoding & 0x0f {
        case 0x00, 0x04, 0x0c: return 8
        case 0x03, 0x0b: return 4
        case 0x02, 0x0a: return 2
        default: throw Malformed(reason: "pointer encoding \(encoding) has no fixed size")
        }
    }

    /// What the scanner needs from one CIE.
    private struct CIE {
        var hasAugmentationData = false
        var personalityEncoding: UInt8?
        var personalityEncodingOffset: Int?
        var personalityField: Int?
        var lsdaEncoding: UInt8?
        var lsdaEncodingOffset: Int?
        var fdeEncoding: UInt8 = EHFramePointers.absolute

        /// Parses the CIE whose identifier the cursor just read; nil for an augmentation it
        /// doesn't know (then it can't tell where the data lies, so it leaves the CIE alone).
        init?(cursor: inout Cursor, end: Int) throws(Malformed) {
            let version = try cursor.u8()
            var augmentation: [UInt8] = []
            while true {
                let byte = try cursor.u8()
                if byte == 0 { break }
                augmentation.append(byte)
            }
            if augmentation.starts(with: Array("eh".utf8)) { try cursor.skip(8) }
            _ = try cursor.uleb()  // code alignment
            _ = try cursor.uleb()  // data alignment (SLEB; only its length matters)
            if version == 1 { _ = try cursor.u8() } else { _ = try cursor.uleb() }  // return address register
            guard augmentation.first == UInt8(ascii: "z") else { return nil }
            hasAugmentationData = true
            _ = try cursor.uleb()
            for letter in augmentation.dropFirst() {
                switch letter {
                case UInt8(ascii: "P"):
                    personalityEncodingOffset = cursor.position
                    let encoding = try cursor.u8()
                    personalityEncoding = encoding
                    personalityField = cursor.position
                    if encoding & 0x0f == 0x01 || encoding & 0x0f == 0x09 {
                        _ = try cursor.uleb()
                    } else {
                        try cursor.skip(try EHFramePointers.fixedSize(of: encoding))
                    }
                case UInt8(ascii: "L"):
                    lsdaEncodingOffset = cursor.position
                    lsdaEncoding = try cursor.u8()
                case UInt8(ascii: "R"):
                    fdeEncoding = try cursor.u8()
                case UInt8(ascii: "S"), UInt8(ascii: "B"), UInt8(ascii: "G"):
                    continue
                default:
                    return nil
                }
            }
            guard cursor.position <= end else { throw Malformed(reason: "a CIE's augmentation overruns its record") }
        }
    }

    /// Bounds-checked little-endian reads over the section bytes.
    private struct Cursor {
        let bytes: [UInt8]
        var position: Int

        mutating func u8() throws(Malformed) -> UInt8 {
            guard position < bytes.count else { throw Malformed(reason: ".eh_frame ends inside a record") }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func u32() throws(Malformed) -> UInt32 {
            var value: UInt32 = 0
            for shift in stride(from: 0, to: 32, by: 8) { value |= UInt32(try u8()) << UInt32(shift) }
            return value
        }

        mutating func u64() throws(Malformed) -> UInt64 {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(try u8()) << UInt64(shift) }
            return value
        }

        mutating func uleb() throws(Malformed) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let byte = try u8()
                if shift < 64 { value |= UInt64(byte & 0x7f) << shift }
                if byte & 0x80 == 0 { return value }
                shift += 7
                guard shift < 640 else { throw Malformed(reason: "an LEB128 number in .eh_frame never ends") }
            }
        }

        mutating func skip(_ count: Int) throws(Malformed) {
            guard count >= 0, position + count <= bytes.count else { throw Malformed(reason: ".eh_frame ends inside a record") }
            position += count
        }
    }
}
