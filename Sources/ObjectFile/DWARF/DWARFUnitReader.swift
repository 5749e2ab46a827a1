/// Walks the DIE trees of `.debug_info`, one compilation unit at a time, collecting aggregate
/// types' layouts. Every form of DWARF 2–5 is decoded or skipped by its size, so an attribute
/// the reader doesn't use never desynchronises it.
struct DWARFUnitReader {
    let path: String
    let info: [UInt8]
    let abbrev: [UInt8]
    let str: [UInt8]
    let lineStr: [UInt8]
    let strOffsets: [UInt8]
    private var abbreviations: [UInt64: (dense: [DWARFAbbreviation?], sparse: [UInt64: DWARFAbbreviation])] = [:]

    init(path: String, info: [UInt8], abbrev: [UInt8], str: [UInt8], lineStr: [UInt8], strOffsets: [UInt8]) throws(ObjectFileError) {
        self.path = path
        self.info = info
        self.abbrev = abbrev
        self.str = str
        self.lineStr = lineStr
        self.strOffsets = strOffsets
    }

    struct UnitHeader {
        var start: Int
        var end: Int
        var version: Int
        var offsetSize: Int
        var addressSize: Int
        var abbrevOffset: UInt64
        var firstEntry: Int
        var isCompileUnit: Bool
    }

    func unitHeader(at start: Int) throws(ObjectFileError) -> UnitHeader {
        var cursor = DWARFCursor(bytes: info, path: path, section: ".debug_info", offset: start)
        var length = try cursor.unsigned(4)
        var offsetSize = 4
        if length == 0xffff_ffff {
            length = try cursor.unsigned(8)
            offsetSize = 8
        }
        guard length <= UInt64(info.count - cursor.offset) else {
            throw ObjectFileError(.truncated, path: path, offset: UInt64(start), what: ".debug_info unit", expected: "\(length) bytes", found: "\(info.count - cursor.offset) available")
        }
        let end = cursor.offset + Int(length)
        let version = Int(try cursor.unsigned(2))
        guard (2...5).contains(version) else { throw cursor.error("unit version \(version) (only DWARF 2 to 5 are read)") }
        var isCompileUnit = true
        let addressSize: Int
        let abbrevOffset: UInt64
        if version >= 5 {
            let unitType = try cursor.u8()
            addressSize = Int(try cursor.u8())
            abbrevOffset = try cursor.unsigned(offsetSize)
            switch unitType {
            case 0x01, 0x03: break                           // compile, partial
            case 0x02, 0x06: isCompileUnit = false            // type units
                try cursor.skip(8 + offsetSize)
            default: isCompileUnit = false                    // skeleton / split: the types are elsewhere
            }
        } else {
            abbrevOffset = try cursor.unsigned(offsetSize)
            addressSize = Int(try cursor.u8())
        }
        guard cursor.offset <= end else { throw cursor.error("unit header longer than its unit") }
        return UnitHeader(
            start: start, end: end, version: version, offsetSize: offsetSize, addressSize: addressSize,
            abbrevOffset: abbrevOffset, firstEntry: cursor.offset, isCompileUnit: isCompileUnit)
    }

    /// An attribute's value as far as the layout reader cares.
    private enum Value {
        case none
        case unsigned(UInt64)
        case signed(Int64)
        case inlineString(String)
        case stringOffset(UInt64, lineTable: Bool)
        case stringIndex(UInt64)
        case reference(UInt64)
        /// An expression or block: its start and length in `.debug_info`.
        case block(Int, Int)
    }

    private func value(
        form: UInt64, implicitConst: Int64, cursor: inout DWARFCursor, unit: UnitHeader
    ) throws(ObjectFileError) -> Value {
        typealias F = DWARF.Form
        switch form {
        case F.addr: try cursor.skip(unit.addressSize); return .none
        case F.data1, F.ref1, F.flag, F.strx1, F.addrx1:
            let v = try cursor.unsigned(1)
            return form == F.ref1 ? .reference(UInt64(unit.start) + v) : form == F.strx1 ? .stringIndex(v) : .unsigned(v)
        case F.data2, F.ref2, F.strx2, F.addrx2:
            let v = try cursor.unsigned(2)
            return form == F.ref2 ? .reference(UInt64(unit.start) + v) : form == F.strx2 ? .stringIndex(v) : .unsigned(v)
        case F.strx3, F.addrx3:
            let v = try cursor.unsigned(3)
            return form == F.strx3 ? .stringIndex(v) : .none
        case F.data4, F.ref4, F.strx4, F.addrx4, F.refSup4:
            let v = try cursor.unsigned(4)
            return form == F.ref4 ? .reference(UInt64(unit.start) + v) : form == F.strx4 ? .stringIndex(v) : .unsigned(v)
        case F.data8, F.ref8, F.refSig8, F.refSup8:
            let v = try cursor.unsigned(8)
            return form == F.ref8 ? .reference(UInt64(unit.start) + v) : form == F.data8 ? .unsigned(v) : .none
        case F.data16: try cursor.skip(16); return .none
        case F.sdata: return .signed(try cursor.sleb())
        case F.udata: return .unsigned(try cursor.uleb())
        case F.refUdata: return .reference(UInt64(unit.start) + (try cursor.uleb()))
        case F.strx, F.gnuStrIndex: return .stringIndex(try cursor.uleb())
        case F.addrx, F.loclistx, F.rnglistx, F.gnuAddrIndex: _ = try cursor.uleb(); return .none
        case F.string: return .inlineString(try cursor.cString())
        case F.strp: return .stringOffset(try cursor.unsigned(unit.offsetSize), lineTable: false)
        case F.lineStrp: return .stringOffset(try cursor.unsigned(unit.offsetSize), lineTable: true)
        case F.refAddr: return .reference(try cursor.unsigned(unit.version <= 2 ? unit.addressSize : unit.offsetSize))
        case F.secOffset, F.strpSup, F.gnuRefAlt, F.gnuStrpAlt: try cursor.skip(unit.offsetSize); return .none
        case F.flagPresent: return .unsigned(1)
        case F.implicitConst: return .signed(implicitConst)
        case F.exprloc, F.block:
            let length = try cursor.uleb()
            return try block(length, &cursor)
        case F.block1: return try block(try cursor.unsigned(1), &cursor)
        case F.block2: return try block(try cursor.unsigned(2), &cursor)
        case F.block4: return try block(try cursor.unsigned(4), &cursor)
        case F.indirect:
            let actual = try cursor.uleb()
            guard actual != F.indirect else { throw cursor.error("DW_FORM_indirect naming itself") }
            return try value(form: actual, implicitConst: 0, cursor: &cursor, unit: unit)
        default: throw cursor.error("unknown attribute form 0x\(String(form, radix: 16))")
        }
    }

    private func block(_ length: UInt64, _ cursor: inout DWARFCursor) throws(ObjectFileError) -> Value {
        guard length <= UInt64(info.count) else { throw cursor.error("block longer than the section") }
        let start = cursor.offset
        try cursor.skip(Int(length))
        return .block(start, Int(length))
    }

    private func string(_ value: Value, strOffsetsBase: UInt64, unit: UnitHeader) throws(ObjectFileError) -> String? {
        switch value {
        case .inlineString(let text): return text
        case .stringOffset(let offset, let lineTable):
            return try DWARFCursor.string(in: lineTable ? lineStr : str, at: offset, path: path, section: lineTable ? ".debug_line_str" : ".debug_str")
        case .stringIndex(let index):
            var cursor = DWARFCursor(bytes: strOffsets, path: path, section: ".debug_str_offsets")
            let position = strOffsetsBase &+ index &* UInt64(unit.offsetSize)
            guard position < UInt64(strOffsets.count) else { throw cursor.error("string index \(index) past the section's end") }
            cursor.offset = Int(position)
            return try DWARFCursor.string(in: str, at: try cursor.unsigned(unit.offsetSize), path: path, section: ".debug_str")
        default: return nil
        }
    }

    private func number(_ value: Value) -> UInt64? {
        switch value {
        case .unsigned(let v): v
        case .signed(let v): v >= 0 ? UInt64(v) : nil
        default: nil
        }
    }

    /// A member's offset: a constant, or the `DW_OP_plus_uconst n` older producers write.
    private func memberOffset(_ value: Value) throws(ObjectFileError) -> UInt64? {
        if case .block(let start, let length) = value {
            var cursor = DWARFCursor(bytes: Array(info[start..<start + length]), path: path, section: ".debug_info expression")
            guard length > 1, try cursor.u8() == 0x23 else { return nil }
            return try cursor.uleb()
        }
        return number(value)
    }

    private struct Frame {
        var tag: UInt64
        var name: String?
        var builder: Int?
        var variant: Int64?
        var inVariantPart = false
    }

    private struct Builder {
        var layout: DWARFTypeLayout
        var typeReferences: [UInt64?]
    }

    /// Reads one compilation unit's types into `types` (the first layout of a name is kept);
    /// false when `units` skipped it.
    mutating func readTypes(
        of unit: UnitHeader, namespaces: Set<String>, units: ((String) -> Bool)?, into types: inout [String: DWARFTypeLayout]
    ) throws(ObjectFileError) -> Bool {
        if abbreviations[unit.abbrevOffset] == nil {
            abbreviations[unit.abbrevOffset] = try DWARFAbbreviation.table(in: abbrev, at: unit.abbrevOffset, path: path)
        }
        guard let table = abbreviations[unit.abbrevOffset] else { return false }
        var cursor = DWARFCursor(bytes: info, path: path, section: ".debug_info", offset: unit.firstEntry)
        var strOffsetsBase: UInt64 = unit.version >= 5 ? UInt64(unit.offsetSize == 8 ? 16 : 8) : 0
        var frames: [Frame] = []
        var entries: [UInt64: (name: String?, size: UInt64?)] = [:]
        var builders: [Builder] = []
        var root = true
        while cursor.offset < unit.end {
            let entryOffset = UInt64(cursor.offset)
            let code = try cursor.uleb()
            if code == 0 {
                if frames.popLast() == nil || frames.isEmpty { break }
                continue
            }
            let found = code < UInt64(table.dense.count) ? table.dense[Int(code)] : table.sparse[code]
            guard let abbreviation = found else { throw cursor.error("unknown abbreviation code \(code) in the unit at \(unit.start)") }
            var nameValue = Value.none, byteSize: UInt64?, alignment: UInt64?, location = Value.none
            var typeReference: UInt64?, discrValue: Int64?, declaration = false
            for spec in abbreviation.attributes {
                let value = try value(form: spec.form, implicitConst: spec.implicitConst, cursor: &cursor, unit: unit)
                switch spec.attribute {
                case DWARF.Attribute.name: nameValue = value
                case DWARF.Attribute.byteSize: byteSize = number(value)
                case DWARF.Attribute.alignment: alignment = number(value)
                case DWARF.Attribute.dataMemberLocation: location = value
                case DWARF.Attribute.type: if case .reference(let target) = value { typeReference = target }
                case DWARF.Attribute.discrValue:
                    if case .signed(let v) = value { discrValue = v } else if let v = number(value) { discrValue = Int64(bitPattern: v) }
                case DWARF.Attribute.declaration: declaration = number(value) != 0
                case DWARF.Attribute.strOffsetsBase: if root, let base = number(value) { strOffsetsBase = base }
                default: break
                }
            }
            let name = try string(nameValue, strOffsetsBase: strOffsetsBase, unit: unit)
            if root {
                root = false
                if let units, !units(name ?? "") { return false }
                guard abbreviation.hasChildren else { break }
                frames.append(Frame(tag: abbreviation.tag, name: nil))
                continue
            }
            if name != nil || byteSize != nil { entries[entryOffset] = (name, byteSize) }
            let parent = frames.last
            var frame = Frame(tag: abbreviation.tag, name: name)
            switch abbreviation.tag {
            case DWARF.Tag.structureType, DWARF.Tag.unionType, DWARF.Tag.enumerationType:
                let path = frames.compactMap { isPathTag($0.tag) ? $0.name : nil }
                if !declaration, let name, let byteSize, !name.hasPrefix("{"),
                   let crate = path.first, namespaces.isEmpty || namespaces.contains(crate) {
                    let kind: DWARFTypeLayout.Kind = abbreviation.tag == DWARF.Tag.structureType ? .structure
                        : abbreviation.tag == DWARF.Tag.unionType ? .union : .enumeration
                    builders.append(Builder(
                        layout: DWARFTypeLayout(name: (path + [name]).joined(separator: "::"), kind: kind, byteSize: byteSize, alignment: alignment, fields: []),
                        typeReferences: []))
                    frame.builder = builders.count - 1
                }
            case DWARF.Tag.variantPart:
                frame.builder = parent?.builder
                frame.inVariantPart = true
            case DWARF.Tag.variant:
                frame.builder = parent?.builder
                frame.variant = discrValue ?? -1
            case DWARF.Tag.member:
                if let parent, let index = parent.builder {
                    builders[index].layout.fields.append(DWARFTypeLayout.Field(
                        name: name ?? "", offset: try memberOffset(location), typeName: nil, size: nil,
                        variant: parent.variant, isDiscriminant: parent.inVariantPart && parent.variant == nil))
                    builders[index].typeReferences.append(typeReference)
                }
            default: break
            }
            if abbreviation.hasChildren { frames.append(frame) }
        }
        for builder in builders {
            var layout = builder.layout
            guard types[layout.name] == nil else { continue }
            for (index, reference) in builder.typeReferences.enumerated() {
                guard let reference, let entry = entries[reference] else { continue }
                layout.fields[index].typeName = entry.name
                layout.fields[index].size = entry.size
            }
            types[layout.name] = layout
        }
        return true
    }

    private func isPathTag(_ tag: UInt64) -> Bool {
        tag == DWARF.Tag.namespace || tag == DWARF.Tag.structureType || tag == DWARF.Tag.unionType || tag == DWARF.Tag.enumerationType
    }
}
