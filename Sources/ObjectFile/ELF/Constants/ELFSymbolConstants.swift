extension ELF {
    /// `ELF64_ST_TYPE(st_info)`: what a symbol names.
    public enum SymbolType {
        /// `STT_NOTYPE`.
        public static let notype: UInt8 = 0
        /// `STT_OBJECT`: data.
        public static let object: UInt8 = 1
        /// `STT_FUNC`: code.
        public static let function: UInt8 = 2
        /// `STT_SECTION`: the section itself (relocations against it carry the offset in the addend).
        public static let section: UInt8 = 3
        /// `STT_FILE`: the source file name.
        public static let file: UInt8 = 4
        /// `STT_COMMON`: a common block.
        public static let common: UInt8 = 5
        /// `STT_TLS`: a thread-local variable (its value is an offset in the TLS template).
        public static let tls: UInt8 = 6
        /// `STT_GNU_IFUNC`: an indirect function, whose value is the resolver.
        public static let gnuIfunc: UInt8 = 10
    }

    /// `ELF64_ST_BIND(st_info)`: who can see a symbol.
    public enum SymbolBinding {
        /// `STB_LOCAL`: only its own object.
        public static let local: UInt8 = 0
        /// `STB_GLOBAL`.
        public static let global: UInt8 = 1
        /// `STB_WEAK`: global, but may be overridden or stay undefined.
        public static let weak: UInt8 = 2
        /// `STB_GNU_UNIQUE`: one definition per process, whatever the library.
        public static let gnuUnique: UInt8 = 10
    }

    /// `ELF64_ST_VISIBILITY(st_other)`: whether a global leaves its linked image.
    public enum SymbolVisibility {
        /// `STV_DEFAULT`: exported, and may be interposed.
        public static let `default`: UInt8 = 0
        /// `STV_INTERNAL`.
        public static let `internal`: UInt8 = 1
        /// `STV_HIDDEN`: visible to the other objects of the link, never exported from it.
        public static let hidden: UInt8 = 2
        /// `STV_PROTECTED`: exported, but never interposed.
        public static let protected: UInt8 = 3
        /// The bits of `st_other` that hold the visibility.
        public static let mask: UInt8 = 0x3
    }

    /// `ELF64_ST_INFO(binding, type)`: the `st_info` byte (the same packing in ELF32).
    public static func symbolInfo(binding: UInt8, type: UInt8) -> UInt8 {
        binding << 4 | type & 0xf
    }
}
