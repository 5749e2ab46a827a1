/// The memory layout of one aggregate type — a struct, union or enum — as a file's DWARF debug
/// info describes it (`DW_TAG_structure_type`/`union_type`/`enumeration_type`, their members
/// and an enum's `DW_TAG_variant_part`). What the hot-patcher compares between the running build
/// and a patch: code compiled against one layout must not run on memory laid out by the other.
public struct DWARFTypeLayout: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case structure, union, enumeration
    }

    /// A member: a field, an enum variant's payload (`variant` is its discriminant value, `-1`
    /// for the default variant), or an enum's discriminant (`isDiscriminant`).
    public struct Field: Sendable, Hashable {
        public var name: String
        public var offset: UInt64?
        public var typeName: String?
        public var size: UInt64?
        public var variant: Int64?
        public var isDiscriminant: Bool

        public init(name: String, offset: UInt64?, typeName: String?, size: UInt64?, variant: Int64? = nil, isDiscriminant: Bool = false) {
            self.name = name
            self.offset = offset
            self.typeName = typeName
            self.size = size
            self.variant = variant
            self.isDiscriminant = isDiscriminant
        }
    }

    /// The path from the crate: `counter::State`, `logscope::query::Token`, `app::Wrapper<u32>`.
    public var name: String
    public var kind: Kind
    public var byteSize: UInt64
    public var alignment: UInt64?
    public var fields: [Field]

    public init(name: String, kind: Kind, byteSize: UInt64, alignment: UInt64?, fields: [Field]) {
        self.name = name
        self.kind = kind
        self.byteSize = byteSize
        self.alignment = alignment
        self.fields = fields
    }
}

/// Every aggregate type's layout in a file's debug info, by qualified name, restricted to the
/// namespaces (crates) asked for. Reads linked files and relocatable objects alike (an object's
/// string offsets are relocations, applied here).
public struct DWARFTypeLayouts: Sendable {
    public var types: [String: DWARFTypeLayout]
    /// Compilation units read (after the unit filter) and skipped.
    public var unitsRead: Int
    public var unitsSkipped: Int

    public init(types: [String: DWARFTypeLayout] = [:], unitsRead: Int = 0, unitsSkipped: Int = 0) {
        self.types = types
        self.unitsRead = unitsRead
        self.unitsSkipped = unitsSkipped
    }

    /// Reads `file`'s `.debug_info`. `namespaces`: the outermost namespace (crate) a type must be
    /// in (empty: any). `units`: which compilation units to read, by their `DW_AT_name` (rustc's
    /// `src/lib.rs/@/<crate>.<hash>-cgu.<n>`); nil reads all. A file without debug info has none.
    public static func read(
        _ file: ELFFile, namespaces: Set<String> = [], units: ((String) -> Bool)? = nil
    ) throws(ObjectFileError) -> DWARFTypeLayouts {
        guard let infoSection = file.section(named: ".debug_info"),
              let abbrevSection = file.section(named: ".debug_abbrev") else { return DWARFTypeLayouts() }
        let path = file.file.path
        var reader = try DWARFUnitReader(
            path: path,
            info: try file.relocatedContents(of: infoSection),
            abbrev: try file.contents(of: abbrevSection),
            str: try file.section(named: ".debug_str").map { s throws(ObjectFileError) in try file.contents(of: s) } ?? [],
            lineStr: try file.section(named: ".debug_line_str").map { s throws(ObjectFileError) in try file.contents(of: s) } ?? [],
            strOffsets: try file.section(named: ".debug_str_offsets").map { s throws(ObjectFileError) in try file.relocatedContents(of: s) } ?? [])
        var result = DWARFTypeLayouts()
        var offset = 0
        while offset < reader.info.count {
            let unit = try reader.unitHeader(at: offset)
            offset = unit.end
            guard unit.isCompileUnit else { result.unitsSkipped += 1; continue }
            if try reader.readTypes(of: unit, namespaces: namespaces, units: units, into: &result.types) {
                result.unitsRead += 1
            } else {
                result.unitsSkipped += 1
            }
        }
        return result
    }
}

extension ELFFile {
    /// A section's bytes with its relocations applied (relocatable objects: `.debug_info`'s
    /// string and abbreviation offsets are `R_*_32` relocations against section symbols; the
    /// bytes in place are zero). Linked files have none and come back as they are.
    func relocatedContents(of section: Section) throws(ObjectFileError) -> [UInt8] {
        var bytes = try contents(of: section)
        guard type == ELF.FileType.relocatable else { return bytes }
        for relocationSection in relocationSections(forSection: section.index) {
            let symbolTable = sections.indices.contains(relocationSection.symbolTableIndex) ? sections[relocationSection.symbolTableIndex] : nil
            for relocation in try relocations(in: relocationSection) {
                let width: Int
                switch (machine, relocation.type) {
                case (ELF.Machine.x86_64, ELF.X86_64Relocation.abs32), (ELF.Machine.x86_64, ELF.X86_64Relocation.abs32s),
                     (ELF.Machine.aarch64, ELF.AArch64Relocation.abs32): width = 4
                case (ELF.Machine.x86_64, ELF.X86_64Relocation.abs64), (ELF.Machine.aarch64, ELF.AArch64Relocation.abs64): width = 8
                default: continue  // addresses of code (ranges, locations): not needed for layouts
                }
                guard relocation.offset <= UInt64(bytes.count), UInt64(bytes.count) - relocation.offset >= UInt64(width) else {
                    throw ObjectFileError(.malformed, path: file.path, offset: relocation.offset, what: "relocation past the end of \(section.name)")
                }
                let symbolValue = relocation.symbolIndex == 0 ? 0 : try symbol(at: Int(relocation.symbolIndex), in: symbolTable).value
                // SHT_REL keeps the addend in place.
                var addend = relocation.addend
                if !relocationSection.hasAddends {
                    var inPlace: UInt64 = 0
                    for index in (0..<width).reversed() { inPlace = inPlace << 8 | UInt64(bytes[Int(relocation.offset) + index]) }
                    addend = width == 4 ? Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: inPlace))) : Int64(bitPattern: inPlace)
                }
                let value = UInt64(bitPattern: Int64(bitPattern: symbolValue) &+ addend)
                for index in 0..<width { bytes[Int(relocation.offset) + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
            }
        }
        return bytes
    }
}
