/// A universal ("fat") Mach-O file: a big-endian table of architecture slices.
public struct UniversalFile: Sendable {
    /// One `fat_arch` / `fat_arch_64` entry.
    public struct Slice: Sendable, Hashable {
        public var cpuType: UInt32
        public var cpuSubtype: UInt32
        /// Offset of the slice in the file.
        public var offset: UInt64
        public var size: UInt64
        /// Alignment as a power of two.
        public var alignment: UInt32

        /// `arm64`, `x86_64`, …
        public var architecture: String { MachO.architectureName(cpuType: cpuType, cpuSubtype: cpuSubtype) }
    }

    public let file: MappedFile
    public let slices: [Slice]
    /// Whether the table uses `fat_arch_64` entries (`FAT_MAGIC_64`).
    public let is64: Bool

    /// More slices than this is not a universal binary (Java class files share the magic
    /// `0xcafebabe` and have their version where the slice count would be).
    static let maximumSlices: UInt32 = 32

    /// Reads the slice table of `file`.
    public init(file: MappedFile) throws(ObjectFileError) {
        self.file = file
        let view = ByteView(bytes: file.bytes, path: file.path, bigEndian: true)
        let magic = try view.u32(0, "universal header")
        guard magic == MachO.fatMagic || magic == MachO.fatMagic64 else {
            throw view.error(.unknownFormat, "not a universal binary", at: 0,
                             expected: "magic 0xcafebabe or 0xcafebabf", found: "found 0x\(String(magic, radix: 16))")
        }
        is64 = magic == MachO.fatMagic64
        let count = try view.u32(4, "universal header")
        guard count <= Self.maximumSlices else {
            throw view.error(.malformed, "implausible slice count in universal header", at: 4,
                             expected: "at most \(Self.maximumSlices) slices", found: "found \(count)")
        }
        let entrySize = is64 ? MachO.fatArch64Size : MachO.fatArchSize
        let start = try view.table(
            UInt64(MachO.fatHeaderSize), count: UInt64(count), entrySize: UInt64(entrySize), "universal slice table")
        var slices: [Slice] = []
        for index in 0..<Int(count) {
            let a = start + index * entrySize
            let slice = Slice(
                cpuType: view.u32(at: a), cpuSubtype: view.u32(at: a + 4),
                offset: is64 ? view.u64(at: a + 8) : UInt64(view.u32(at: a + 8)),
                size: is64 ? view.u64(at: a + 16) : UInt64(view.u32(at: a + 12)),
                alignment: view.u32(at: is64 ? a + 24 : a + 16))
            _ = try view.range(slice.offset, slice.size, "slice \(index) (\(slice.architecture))")
            slices.append(slice)
        }
        self.slices = slices
    }

    /// The slice for `architecture`; without one, the host's architecture if present, else the first.
    public func slice(for architecture: String?) throws(ObjectFileError) -> Slice {
        let available = slices.map(\.architecture)
        if let architecture {
            let wanted = ObjectFile.canonicalArchitecture(architecture)
            if let match = slices.first(where: { ObjectFile.canonicalArchitecture($0.architecture) == wanted }) {
                return match
            }
            throw ObjectFileError(
                .architectureNotFound, path: file.path, what: "no \(architecture) slice in universal binary",
                expected: "one of \(available.joined(separator: ", "))")
        }
        if let host = slices.first(where: { $0.architecture == ObjectFile.hostArchitecture }) { return host }
        guard let first = slices.first else {
            throw ObjectFileError(.malformed, path: file.path, offset: 4, what: "universal binary has no slices",
                                  expected: "at least one slice")
        }
        return first
    }

    /// Reads the Mach-O image of `slice`.
    public func machO(_ slice: Slice) throws(ObjectFileError) -> MachOFile {
        let whole = ByteView(bytes: file.bytes, path: file.path)
        let start = try whole.range(slice.offset, slice.size, "slice (\(slice.architecture))")
        let image = whole.slice(start, Int(slice.size))
        let nested = try image.u32(0, "slice header")
        guard nested != MachO.fatMagic, nested != MachO.fatMagic64 else {
            throw image.error(.malformed, "universal binary nested in a universal binary", at: 0,
                              expected: "a Mach-O image")
        }
        return try MachOFile(file: file, view: image)
    }
}
