/// A section, normalised across ELF and Mach-O: where it lives in memory and in the file.
///
/// ``ObjectFile/sections`` keeps the format's own numbering: ELF section header index (0 is the
/// null section), Mach-O `n_sect - 1` (sections of all `LC_SEGMENT_64`s in load-command order).
public struct ObjectSection: Sendable, Hashable {
    /// ELF: `.text`; Mach-O: `__text` (see ``segment``).
    public var name: String
    /// Mach-O segment name (`__TEXT`); empty for ELF.
    public var segment: String
    /// Virtual address (ELF `sh_addr`, Mach-O `addr`).
    public var address: UInt64
    /// Size in memory.
    public var size: UInt64
    /// Offset of the contents in the file (meaningless if ``fileSize`` is 0).
    public var fileOffset: UInt64
    /// Bytes present in the file: `size`, or 0 for `SHT_NOBITS` / zero-fill sections.
    public var fileSize: UInt64
    public var flags: Flags

    /// What the section holds, as far as symbol classification and patching care.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// Occupies memory at run time (ELF `SHF_ALLOC`; every Mach-O section).
        public static let allocated = Flags(rawValue: 1 << 0)
        public static let writable = Flags(rawValue: 1 << 1)
        /// Holds machine code.
        public static let executable = Flags(rawValue: 1 << 2)
        /// Thread-local storage or descriptors.
        public static let threadLocal = Flags(rawValue: 1 << 3)
        /// No bytes in the file (`.bss`, zero-fill).
        public static let zeroFill = Flags(rawValue: 1 << 4)
    }

    public init(
        name: String, segment: String = "", address: UInt64, size: UInt64, fileOffset: UInt64, fileSize: UInt64,
        flags: Flags
    ) {
        self.name = name
        self.segment = segment
        self.address = address
        self.size = size
        self.fileOffset = fileOffset
        self.fileSize = fileSize
        self.flags = flags
    }

    /// The file bytes of the section as a range, or `nil` if it has none.
    public var fileRange: Range<UInt64>? {
        let (end, overflow) = fileOffset.addingReportingOverflow(fileSize)
        return fileSize == 0 || overflow ? nil : fileOffset..<end
    }
}

/// The thread-local storage template of an image (ELF `PT_TLS`), which later stages need to turn a
/// TLS symbol's `st_value` into a thread-pointer offset.
public struct TLSSegment: Sendable, Hashable {
    /// `p_vaddr`.
    public var address: UInt64
    /// `p_filesz`: the initialised part (`.tdata`).
    public var fileSize: UInt64
    /// `p_memsz`: initialised plus zero-filled (`.tbss`).
    public var memSize: UInt64
    /// `p_align`.
    public var alignment: UInt64

    public init(address: UInt64, fileSize: UInt64, memSize: UInt64, alignment: UInt64) {
        self.address = address
        self.fileSize = fileSize
        self.memSize = memSize
        self.alignment = alignment
    }
}

/// What kind of file an object is.
public enum ObjectFileType: String, Sendable, Hashable {
    /// A relocatable object (`.o`).
    case relocatable
    /// A linked executable (including PIE executables when the reader can tell).
    case executable
    /// A shared library / dylib.
    case sharedLibrary = "shared-library"
    /// Anything else (core files, bundles, dSYMs…).
    case other
}
