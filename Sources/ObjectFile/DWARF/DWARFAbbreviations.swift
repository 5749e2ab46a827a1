/// The DWARF numbers the type-layout reader needs (DWARF 5 §7, with the GNU forms of split
/// DWARF 4). Only what is read or must be skipped correctly; the rest of the standard is not here.
enum DWARF {
    enum Tag {
        static let enumerationType: UInt64 = 0x04
        static let member: UInt64 = 0x0d
        static let structureType: UInt64 = 0x13
        static let unionType: UInt64 = 0x17
        static let variant: UInt64 = 0x19
        static let variantPart: UInt64 = 0x33
        static let namespace: UInt64 = 0x39
    }

    enum Attribute {
        static let name: UInt64 = 0x03
        static let byteSize: UInt64 = 0x0b
        static let discrValue: UInt64 = 0x16
        static let dataMemberLocation: UInt64 = 0x38
        static let declaration: UInt64 = 0x3c
        static let type: UInt64 = 0x49
        static let strOffsetsBase: UInt64 = 0x72
        static let alignment: UInt64 = 0x88
    }

    enum Form {
        static let addr: UInt64 = 0x01, block2: UInt64 = 0x03, block4: UInt64 = 0x04
        static let data2: UInt64 = 0x05, data4: UInt64 = 0x06, data8: UInt64 = 0x07
        static let string: UInt64 = 0x08, block: UInt64 = 0x09, block1: UInt64 = 0x0a
        static let data1: UInt64 = 0x0b, flag: UInt64 = 0x0c, sdata: UInt64 = 0x0d
        static let strp: UInt64 = 0x0e, udata: UInt64 = 0x0f, refAddr: UInt64 = 0x10
        static let ref1: UInt64 = 0x11, ref2: UInt64 = 0x12, ref4: UInt64 = 0x13, ref8: UInt64 = 0x14
        static let refUdata: UInt64 = 0x15, indirect: UInt64 = 0x16, secOffset: UInt64 = 0x17
        static let exprloc: UInt64 = 0x18, flagPresent: UInt64 = 0x19, strx: UInt64 = 0x1a
        static let addrx: UInt64 = 0x1b, refSup4: UInt64 = 0x1c, strpSup: UInt64 = 0x1d
        static let data16: UInt64 = 0x1e, lineStrp: UInt64 = 0x1f, refSig8: UInt64 = 0x20
        static let implicitConst: UInt64 = 0x21, loclistx: UInt64 = 0x22, rnglistx: UInt64 = 0x23
        static let refSup8: UInt64 = 0x24, strx1: UInt64 = 0x25, strx2: UInt64 = 0x26
        static let strx3: UInt64 = 0x27, strx4: UInt64 = 0x28, addrx1: UInt64 = 0x29
        static let addrx2: UInt64 = 0x2a, addrx3: UInt64 = 0x2b, addrx4: UInt64 = 0x2c
        static let gnuAddrIndex: UInt64 = 0x1f01, gnuStrIndex: UInt64 = 0x1f02
        static let gnuRefAlt: UInt64 = 0x1f20, gnuStrpAlt: UInt64 = 0x1f21
    }
}

/// One abbreviation of `.debug_abbrev`: the shape every DIE with its code has.
struct DWARFAbbreviation {
    struct AttributeSpec {
        var attribute: UInt64
        var form: UInt64
        /// `DW_FORM_implicit_const`'s value, stored in the abbreviation rather than the DIE.
        var implicitConst: Int64
    }

    var tag: UInt64
    var hasChildren: Bool
    var attributes: [AttributeSpec]

    /// The abbreviation table at `offset` of `.debug_abbrev`, by code. Codes are usually dense
    /// from 1, so an array indexed by code; a sparse table falls back to the dictionary.
    static func table(
        in bytes: [UInt8], at offset: UInt64, path: String
    ) throws(ObjectFileError) -> (dense: [DWARFAbbreviation?], sparse: [UInt64: DWARFAbbreviation]) {
        var cursor = DWARFCursor(bytes: bytes, path: path, section: ".debug_abbrev")
        guard offset < UInt64(bytes.count) else { throw cursor.error("abbreviation table offset \(offset) past the section's end") }
        cursor.offset = Int(offset)
        var dense: [DWARFAbbreviation?] = [nil]
        var sparse: [UInt64: DWARFAbbreviation] = [:]
        while true {
            let code = try cursor.uleb()
            if code == 0 { break }
            let tag = try cursor.uleb()
            let hasChildren = try cursor.u8() != 0
            var attributes: [AttributeSpec] = []
            while true {
                let attribute = try cursor.uleb()
                let form = try cursor.uleb()
                if attribute == 0 && form == 0 { break }
                let implicitConst = form == DWARF.Form.implicitConst ? try cursor.sleb() : 0
                attributes.append(AttributeSpec(attribute: attribute, form: form, implicitConst: implicitConst))
            }
            let abbreviation = DWARFAbbreviation(tag: tag, hasChildren: hasChildren, attributes: attributes)
            if code == UInt64(dense.count), code < 1 << 20 { dense.append(abbreviation) } else { sparse[code] = abbreviation }
        }
        return (dense, sparse)
    }
}
