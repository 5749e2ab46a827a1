/// The container format of a file, recognised by its magic number.
public enum ObjectFormat: String, Sendable, Hashable {
    case elf
    case machO = "mach-o"
    /// A universal (fat) Mach-O; ``ObjectFile`` opens one of its slices.
    case universal

    /// The format whose magic starts `bytes`, or `nil`.
    public static func detect(_ bytes: UnsafeRawBufferPointer) -> ObjectFormat? {
        guard bytes.count >= 4 else { return nil }
        if bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 { return .elf }
        let big = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        switch big {
        case MachO.fatMagic, MachO.fatMagic64: return .universal
        case MachO.cigam64, MachO.cigam32, MachO.magic64, MachO.magic32: return .machO
        default: return nil
        }
    }
}

/// An opened object file of any supported format, with a format-neutral view of its sections and
/// symbols. For a universal file, one slice is opened (see ``init(file:architecture:)``).
///
/// Use ``elf`` / ``machO`` for format-specific details (program headers, relocations, load commands).
public struct ObjectFile: Sendable {
    /// The format-specific reader of the opened image.
    public enum Image: Sendable {
        case elf(ELFFile)
        case machO(MachOFile)
    }

    /// The mapped file.
    public let file: MappedFile
    /// The image that was opened.
    public let image: Image
    /// `.universal` if the file is fat (``image`` is then the chosen slice).
    public let containerFormat: ObjectFormat
    /// Sections in the format's own numbering (see ``ObjectSection``).
    public let sections: [ObjectSection]

    /// Maps and opens `path`.
    ///
    /// - Parameter architecture: for universal files, the slice to open (`arm64`, `x86_64`);
    ///   `nil` picks the host's architecture if present, else the first slice. For thin files, a
    ///   mismatch throws `.architectureNotFound`.
    public init(path: String, architecture: String? = nil) throws(ObjectFileError) {
        try self.init(file: MappedFile(path: path), architecture: architecture)
    }

    /// Opens an already mapped file.
    public init(file: MappedFile, architecture: String? = nil) throws(ObjectFileError) {
        self.file = file
        guard let format = ObjectFormat.detect(file.bytes) else {
            let found = file.count < 4 ? "\(file.count) bytes" : file.bytes.prefix(4).map { Self.hex2($0) }.joined(separator: " ")
            throw ObjectFileError(
                file.count < 4 ? .truncated : .unknownFormat, path: file.path, offset: 0,
                what: file.count < 4 ? "file too short for a magic number" : "unrecognised file format",
                expected: "an ELF, Mach-O or universal Mach-O magic number", found: "found \(found)")
        }
        containerFormat = format
        switch format {
        case .elf:
            let elf = try ELFFile(file: file)
            image = .elf(elf)
            sections = elf.sections.map(Self.section)
        case .machO:
            let macho = try MachOFile(file: file)
            image = .machO(macho)
            sections = macho.sections.map(Self.section)
        case .universal:
            let fat = try UniversalFile(file: file)
            let macho = try fat.machO(fat.slice(for: architecture))
            image = .machO(macho)
            sections = macho.sections.map(Self.section)
        }
        if format != .universal, let architecture,
           Self.canonicalArchitecture(architecture) != Self.canonicalArchitecture(self.architecture) {
            throw ObjectFileError(
                .architectureNotFound, path: file.path, what: "wrong architecture",
                expected: architecture, found: "found \(self.architecture)")
        }
    }

    /// `.elf` or `.machO` (the format of the opened image, also for a universal file).
    public var format: ObjectFormat {
        switch image {
        case .elf: .elf
        case .machO: .machO
        }
    }

    public var elf: ELFFile? {
        if case .elf(let elf) = image { return elf }
        return nil
    }

    public var machO: MachOFile? {
        if case .machO(let macho) = image { return macho }
        return nil
    }

    /// `x86_64`, `aarch64`, `i386` (ELF) or `arm64`, `x86_64` (Mach-O).
    public var architecture: String {
        switch image {
        case .elf(let elf): elf.architecture
        case .machO(let macho): macho.architecture
        }
    }

    public var fileType: ObjectFileType {
        switch image {
        case .elf(let elf): elf.fileType
        case .machO(let macho): macho.fileType
        }
    }

    /// ELF `PT_TLS`; `nil` for Mach-O and images without thread-locals.
    public var tlsSegment: TLSSegment? { elf?.tlsSegment }

    /// Upper bound of the number of symbols ``forEachSymbol(_:)`` visits (for reserving capacity).
    public var symbolCountEstimate: Int {
        switch image {
        case .elf(let elf): elf.symbolTableSection.map { elf.symbolCount(in: $0) } ?? 0
        case .machO(let macho): macho.symbolCount
        }
    }

    /// Whether ELF symbols come from `.dynsym` because the file has no `.symtab` (stripped).
    public var usesDynamicSymbols: Bool {
        guard let elf else { return false }
        return elf.symbolTableSection(.symtab) == nil && elf.symbolTableSection(.dynsym) != nil
    }

    /// Visits every symbol without allocating per symbol: ELF `.symtab` (else `.dynsym`) from
    /// index 1, Mach-O `LC_SYMTAB` including flagged `N_STAB` entries. The name is valid only
    /// during the call.
    public func forEachSymbol(_ body: (RawSymbol) throws -> Void) throws {
        switch image {
        case .elf(let elf): try elf.forEachSymbol(body)
        case .machO(let macho): try macho.forEachSymbol(body)
        }
    }

    /// Every symbol with a `String` name.
    public var symbols: [ObjectSymbol] {
        get throws {
            var result: [ObjectSymbol] = []
            result.reserveCapacity(symbolCountEstimate)
            try forEachSymbol { result.append(ObjectSymbol($0)) }
            return result
        }
    }

    /// The architecture this process runs on, in Mach-O spelling.
    public static var hostArchitecture: String {
        #if arch(arm64)
        "arm64"
        #elseif arch(x86_64)
        "x86_64"
        #elseif arch(i386)
        "i386"
        #else
        "unknown"
        #endif
    }

    /// Folds the ELF and Mach-O spellings of one architecture together (`aarch64` = `arm64`).
    public static func canonicalArchitecture(_ name: String) -> String {
        switch name.lowercased() {
        case "aarch64", "arm64": "arm64"
        case "x86_64", "amd64", "x86-64": "x86_64"
        case "i386", "i686", "x86": "i386"
        default: name.lowercased()
        }
    }

    private static func hex2(_ byte: UInt8) -> String {
        byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
    }

    private static func section(_ s: ELFFile.Section) -> ObjectSection {
        var flags: ObjectSection.Flags = []
        if s.flags & ELF.SectionFlags.alloc != 0 { flags.insert(.allocated) }
        if s.flags & ELF.SectionFlags.write != 0 { flags.insert(.writable) }
        if s.flags & ELF.SectionFlags.execinstr != 0 { flags.insert(.executable) }
        if s.flags & ELF.SectionFlags.tls != 0 { flags.insert(.threadLocal) }
        if !s.hasFileBytes { flags.insert(.zeroFill) }
        return ObjectSection(
            name: s.name, address: s.address, size: s.size, fileOffset: s.offset,
            fileSize: s.hasFileBytes ? s.size : 0, flags: flags)
    }

    private static func section(_ s: MachOFile.Section) -> ObjectSection {
        var flags: ObjectSection.Flags = [.allocated]
        if s.segment == "__DATA" || s.segment == "__DATA_CONST" || s.segment == "__DATA_DIRTY" { flags.insert(.writable) }
        if s.hasInstructions { flags.insert(.executable) }
        if s.isThreadLocal { flags.insert(.threadLocal) }
        if s.isZeroFill { flags.insert(.zeroFill) }
        return ObjectSection(
            name: s.name, segment: s.segment, address: s.address, size: s.size, fileOffset: s.offset,
            fileSize: s.isZeroFill ? 0 : s.size, flags: flags)
    }
}
