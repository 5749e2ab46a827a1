extension ELF {
    /// `sh_type`: what a section holds.
    public enum SectionType {
        /// `SHT_NULL`: the unused header at index 0.
        public static let null: UInt32 = 0
        /// `SHT_PROGBITS`: bytes the program defines (code, data, constants).
        public static let progbits: UInt32 = 1
        /// `SHT_SYMTAB`: the full symbol table (`.symtab`).
        public static let symtab: UInt32 = 2
        /// `SHT_STRTAB`: a string table.
        public static let strtab: UInt32 = 3
        /// `SHT_RELA`: relocations with explicit addends.
        public static let rela: UInt32 = 4
        /// `SHT_HASH`: the SysV symbol hash table.
        public static let hash: UInt32 = 5
        /// `SHT_DYNAMIC`: the dynamic linking table (`.dynamic`).
        public static let dynamic: UInt32 = 6
        /// `SHT_NOTE`.
        public static let note: UInt32 = 7
        /// `SHT_NOBITS`: occupies memory but no file bytes (`.bss`, `.tbss`).
        public static let nobits: UInt32 = 8
        /// `SHT_REL`: relocations whose addend is stored in the bytes they patch.
        public static let rel: UInt32 = 9
        /// `SHT_DYNSYM`: the dynamic symbol table (`.dynsym`).
        public static let dynsym: UInt32 = 11
        /// `SHT_INIT_ARRAY`.
        public static let initArray: UInt32 = 14
        /// `SHT_FINI_ARRAY`.
        public static let finiArray: UInt32 = 15
        /// `SHT_PREINIT_ARRAY`.
        public static let preinitArray: UInt32 = 16
        /// `SHT_GROUP`: a COMDAT or other section group.
        public static let group: UInt32 = 17
        /// `SHT_SYMTAB_SHNDX`: the full section indices of symbols whose `st_shndx` is `SHN_XINDEX`.
        public static let symtabShndx: UInt32 = 18
        /// `SHT_RELR`: compact relative relocations.
        public static let relr: UInt32 = 19
        /// `SHT_GNU_HASH`.
        public static let gnuHash: UInt32 = 0x6fff_fff6
        /// `SHT_GNU_verdef`.
        public static let gnuVerdef: UInt32 = 0x6fff_fffd
        /// `SHT_GNU_verneed`.
        public static let gnuVerneed: UInt32 = 0x6fff_fffe
        /// `SHT_GNU_versym`.
        public static let gnuVersym: UInt32 = 0x6fff_ffff
        /// `SHT_X86_64_UNWIND`: `.eh_frame` as some x86_64 assemblers type it.
        public static let x86_64Unwind: UInt32 = 0x7000_0001
    }

    /// `sh_flags` bits (ELF64 width; ELF32 uses the low 32 bits).
    public enum SectionFlags {
        /// `SHF_WRITE`: writable at run time.
        public static let write: UInt64 = 0x1
        /// `SHF_ALLOC`: occupies memory at run time (what a debug section lacks).
        public static let alloc: UInt64 = 0x2
        /// `SHF_EXECINSTR`: machine code.
        public static let execinstr: UInt64 = 0x4
        /// `SHF_MERGE`: entries the linker may merge with equal ones.
        public static let merge: UInt64 = 0x10
        /// `SHF_STRINGS`: NUL-terminated strings (with `SHF_MERGE`: mergeable literals).
        public static let strings: UInt64 = 0x20
        /// `SHF_INFO_LINK`: `sh_info` holds a section index (a relocation section's target).
        public static let infoLink: UInt64 = 0x40
        /// `SHF_LINK_ORDER`.
        public static let linkOrder: UInt64 = 0x80
        /// `SHF_GROUP`: member of a section group.
        public static let group: UInt64 = 0x200
        /// `SHF_TLS`: thread-local storage template.
        public static let tls: UInt64 = 0x400
        /// `SHF_COMPRESSED`.
        public static let compressed: UInt64 = 0x800
        /// `SHF_GNU_RETAIN`: the linker's `--gc-sections` keeps the section even when nothing refers
        /// to it (GNU ld 2.36, lld 13).
        public static let gnuRetain: UInt64 = 0x20_0000
        /// `SHF_EXCLUDE`: left out of the link.
        public static let exclude: UInt64 = 0x8000_0000
    }

    /// Reserved `st_shndx` values: a symbol's section index that names no section.
    public enum SectionIndex {
        /// `SHN_UNDEF`: an undefined symbol (and index 0 of the header table).
        public static let undefined: UInt16 = 0
        /// `SHN_LORESERVE`: the first reserved index; ordinary sections are numbered below it.
        public static let loReserve: UInt16 = 0xff00
        /// `SHN_ABS`: the value is absolute, not relative to a section.
        public static let absolute: UInt16 = 0xfff1
        /// `SHN_COMMON`: a common block not yet allocated.
        public static let common: UInt16 = 0xfff2
        /// `SHN_XINDEX`: the real index is in `SHT_SYMTAB_SHNDX` (and, in the ELF header's
        /// `e_shstrndx`, in section 0's `sh_link`).
        public static let xindex: UInt16 = 0xffff
    }
}
