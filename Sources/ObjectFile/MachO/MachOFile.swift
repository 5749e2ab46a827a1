/// A thin 64-bit Mach-O file (or one slice of a universal file): header, segments, sections and
/// the `LC_SYMTAB` symbol table.
public struct MachOFile: Sendable {
    /// One `section_64`.
    public struct Section: Sendable, Hashable {
        /// 0-based position among all sections (`n_sect - 1`).
        public var index: Int
        public var name: String
        public var segment: String
        public var address: UInt64
        public var size: UInt64
        /// File offset of the contents, relative to the start of the whole file (not the slice).
        public var offset: UInt64
        public var alignment: UInt32
        public var flags: UInt32

        /// The section type (low byte of `flags`).
        public var sectionType: UInt32 { flags & MachO.sectionTypeMask }
        /// Zero-fill types occupy no file bytes.
        public var isZeroFill: Bool {
            [MachO.sZeroFill, MachO.sGBZeroFill, MachO.sThreadLocalZeroFill].contains(sectionType)
        }
        /// Holds machine code.
        public var hasInstructions: Bool {
            flags & (MachO.sAttrPureInstructions | MachO.sAttrSomeInstructions) != 0
        }
        /// Thread-local data, zero-fill or descriptors.
        public var isThreadLocal: Bool {
            (MachO.sThreadLocalRegular...MachO.sThreadLocalVariables).contains(sectionType)
        }
    }

    /// The `LC_SYMTAB` command's fields (offsets relative to the slice, as in the file).
    public struct SymtabCommand: Sendable, Hashable {
        public var symbolOffset: UInt32
        public var symbolCount: UInt32
        public var stringOffset: UInt32
        public var stringSize: UInt32
    }

    /// The mapped file this was read from.
    public let file: MappedFile
    /// Where this image starts in `file` (non-zero for a slice of a universal file).
    public let sliceOffset: UInt64
    /// Bytes of this image.
    public let sliceSize: UInt64
    public let cpuType: UInt32
    public let cpuSubtype: UInt32
    /// `MH_OBJECT`, `MH_EXECUTE`, `MH_DYLIB`, …
    public let fileTypeCode: UInt32
    public let segments: [String]
    public let sections: [Section]
    public let symtab: SymtabCommand?

    /// `arm64`, `x86_64`, …
    public var architecture: String { MachO.architectureName(cpuType: cpuType, cpuSubtype: cpuSubtype) }

    public var fileType: ObjectFileType {
        switch fileTypeCode {
        case MachO.mhObject: .relocatable
        case MachO.mhExecute: .executable
        case MachO.mhDylib: .sharedLibrary
        default: .other
        }
    }

    /// Reads a whole file that is a thin Mach-O.
    public init(file: MappedFile) throws(ObjectFileError) {
        try self.init(file: file, view: ByteView(bytes: file.bytes, path: file.path))
    }

    /// Reads the image in `view` (the whole file or one slice).
    init(file: MappedFile, view: ByteView) throws(ObjectFileError) {
        self.file = file
        sliceOffset = view.origin
        sliceSize = UInt64(view.count)
        let magic = try view.u32(0, "Mach-O header")
        switch magic {
        case MachO.magic64: break
        case MachO.magic32, MachO.cigam32:
            throw view.error(.unsupported, "32-bit Mach-O is not supported", at: 0,
                             expected: "a 64-bit Mach-O (arm64 or x86_64)", found: "found magic 0x\(String(magic, radix: 16))")
        case MachO.cigam64:
            throw view.error(.unsupported, "big-endian Mach-O is not supported", at: 0,
                             expected: "a little-endian 64-bit Mach-O", found: "found magic 0x\(String(magic, radix: 16))")
        default:
            throw view.error(.unknownFormat, "not a Mach-O image", at: 0,
                             expected: "magic 0xfeedfacf", found: "found 0x\(String(magic, radix: 16))")
        }
        let h = try view.range(0, UInt64(MachO.headerSize64), "Mach-O header")
        cpuType = view.u32(at: h + 4)
        cpuSubtype = view.u32(at: h + 8)
        fileTypeCode = view.u32(at: h + 12)
        let commandCount = view.u32(at: h + 16)
        let commandBytes = view.u32(at: h + 20)
        let commands = try view.range(UInt64(MachO.headerSize64), UInt64(commandBytes), "load commands")
        let end = commands + Int(commandBytes)

        var segments: [String] = []
        var sections: [Section] = []
        var symtab: SymtabCommand?
        var cursor = commands
        for number in 0..<Int(commandCount) {
            guard cursor + 8 <= end else {
                throw view.truncated("load command \(number)", at: UInt64(cursor), expected: 8)
            }
            let cmd = view.u32(at: cursor)
            let size = Int(view.u32(at: cursor + 4))
            guard size >= 8, size <= end - cursor else {
                throw view.error(.malformed, "bad size of load command \(number)", at: UInt64(cursor + 4),
                                 expected: "8 to \(end - cursor) bytes", found: "found \(size)")
            }
            switch cmd {
            case MachO.lcSegment64:
                guard size >= MachO.segment64CommandSize else {
                    throw view.truncated("LC_SEGMENT_64 command", at: UInt64(cursor), expected: UInt64(MachO.segment64CommandSize))
                }
                let segmentName = view.fixedString(at: cursor + 8, length: 16)
                segments.append(segmentName)
                let sectionCount = Int(view.u32(at: cursor + 64))
                guard sectionCount <= (size - MachO.segment64CommandSize) / MachO.section64Size else {
                    throw view.error(.malformed, "section count of segment \(segmentName) exceeds its command",
                                     at: UInt64(cursor + 64),
                                     expected: "at most \((size - MachO.segment64CommandSize) / MachO.section64Size)",
                                     found: "found \(sectionCount)")
                }
                for local in 0..<sectionCount {
                    let s = cursor + MachO.segment64CommandSize + local * MachO.section64Size
                    sections.append(Section(
                        index: sections.count,
                        name: view.fixedString(at: s, length: 16),
                        segment: view.fixedString(at: s + 16, length: 16),
                        address: view.u64(at: s + 32),
                        size: view.u64(at: s + 40),
                        offset: view.origin + UInt64(view.u32(at: s + 48)),
                        alignment: view.u32(at: s + 52),
                        flags: view.u32(at: s + 64)))
                }
            case MachO.lcSymtab:
                guard size >= MachO.symtabCommandSize else {
                    throw view.truncated("LC_SYMTAB command", at: UInt64(cursor), expected: UInt64(MachO.symtabCommandSize))
                }
                symtab = SymtabCommand(
                    symbolOffset: view.u32(at: cursor + 8), symbolCount: view.u32(at: cursor + 12),
                    stringOffset: view.u32(at: cursor + 16), stringSize: view.u32(at: cursor + 20))
            default:
                break
            }
            cursor += size
        }
        self.segments = segments
        self.sections = sections
        self.symtab = symtab
    }

    /// This image's bytes as a view (file offsets in errors stay absolute).
    var view: ByteView {
        ByteView(
            bytes: UnsafeRawBufferPointer(rebasing: file.bytes[Int(sliceOffset)..<Int(sliceOffset + sliceSize)]),
            path: file.path, origin: sliceOffset)
    }

    /// A copy of a section's file bytes (empty for zero-fill sections).
    public func contents(of section: Section) throws(ObjectFileError) -> [UInt8] {
        guard !section.isZeroFill else { return [] }
        let whole = ByteView(bytes: file.bytes, path: file.path)
        let start = try whole.range(section.offset, section.size, "contents of section \(section.segment),\(section.name)")
        return file.copyBytes(start..<start + Int(section.size))
    }
}
