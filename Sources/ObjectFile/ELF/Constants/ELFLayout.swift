extension ELF {
    /// Sizes and field offsets of the ELF structures for one class (32- or 64-bit).
    ///
    /// The reader decodes and the writer and editor encode through these, so a field can't be at
    /// one place when read and another when written.
    public struct Layout: Sendable, Hashable {
        /// ELF64 (`ELFCLASS64`) rather than ELF32.
        public let is64: Bool

        public init(is64: Bool) {
            self.is64 = is64
        }

        /// `Elf64_*` structures.
        public static let elf64 = Layout(is64: true)
        /// `Elf32_*` structures.
        public static let elf32 = Layout(is64: false)

        /// `Elf*_Ehdr`.
        public var headerSize: Int { is64 ? 64 : 52 }
        /// `Elf*_Shdr`.
        public var sectionHeaderSize: Int { is64 ? 64 : 40 }
        /// `Elf*_Phdr`.
        public var programHeaderSize: Int { is64 ? 56 : 32 }
        /// `Elf*_Sym`.
        public var symbolSize: Int { is64 ? 24 : 16 }
        /// `Elf*_Rel`.
        public var relSize: Int { is64 ? 16 : 8 }
        /// `Elf*_Rela`.
        public var relaSize: Int { is64 ? 24 : 12 }
        /// An `SHT_SYMTAB_SHNDX` entry (`Elf32_Word` in both classes).
        public var extendedSectionIndexSize: Int { 4 }
        /// An address, offset or size field (`Elf*_Addr`, `Elf*_Off`, ELF64 `sh_flags`).
        public var wordSize: Int { is64 ? 8 : 4 }

        // Offsets of the fields the editor rewrites, inside their structure.

        /// `sh_flags` (after `sh_name` and `sh_type`, one word wide).
        var sectionFlagsField: Int { 8 }
        /// `sh_offset`.
        var sectionOffsetField: Int { is64 ? 24 : 16 }
        /// `sh_size`.
        var sectionSizeField: Int { is64 ? 32 : 20 }
        /// `st_name`, 4 bytes in both classes.
        var symbolNameField: Int { 0 }
        /// `r_info` (one word wide).
        var relocationInfoField: Int { is64 ? 8 : 4 }
        /// `r_addend` of `Elf*_Rela` (one word wide, signed).
        var relocationAddendField: Int { is64 ? 16 : 8 }

        /// `ELF64_R_INFO(symbol, type)` / `ELF32_R_INFO`: the `r_info` word. ELF32 keeps 8 bits
        /// of type, so wider types are truncated. (64-bit MIPS packs it differently; not handled.)
        public func relocationInfo(symbolIndex: UInt32, type: UInt32) -> UInt64 {
            is64 ? UInt64(symbolIndex) << 32 | UInt64(type) : UInt64(symbolIndex << 8 | type & 0xff)
        }
    }
}
