extension ELF {
    /// `p_type`: what a program header describes.
    public enum ProgramHeaderType {
        /// `PT_NULL`.
        public static let null: UInt32 = 0
        /// `PT_LOAD`: a segment mapped from the file.
        public static let load: UInt32 = 1
        /// `PT_DYNAMIC`: the dynamic linking table.
        public static let dynamic: UInt32 = 2
        /// `PT_INTERP`: the program interpreter; an `ET_DYN` file with one is an executable (PIE).
        public static let interp: UInt32 = 3
        /// `PT_NOTE`.
        public static let note: UInt32 = 4
        /// `PT_PHDR`: the program header table itself.
        public static let phdr: UInt32 = 6
        /// `PT_TLS`: the thread-local storage template.
        public static let tls: UInt32 = 7
        /// `PT_GNU_EH_FRAME`: `.eh_frame_hdr`.
        public static let gnuEHFrame: UInt32 = 0x6474_e550
        /// `PT_GNU_STACK`: the stack's permissions (no `PF_X`: a non-executable stack).
        public static let gnuStack: UInt32 = 0x6474_e551
        /// `PT_GNU_RELRO`: made read-only after relocation.
        public static let gnuRelro: UInt32 = 0x6474_e552
        /// `PT_GNU_PROPERTY`.
        public static let gnuProperty: UInt32 = 0x6474_e553
    }

    /// `p_flags` bits.
    public enum ProgramHeaderFlags {
        /// `PF_X`.
        public static let execute: UInt32 = 0x1
        /// `PF_W`.
        public static let write: UInt32 = 0x2
        /// `PF_R`.
        public static let read: UInt32 = 0x4
    }

    /// `d_tag` of a `.dynamic` entry (`Elf64_Sxword`).
    public enum DynamicTag {
        /// `DT_NULL`: the end of the table.
        public static let null: Int64 = 0
        /// `DT_NEEDED`: a library the image needs (a string table offset).
        public static let needed: Int64 = 1
        /// `DT_PLTRELSZ`.
        public static let pltRelSize: Int64 = 2
        /// `DT_PLTGOT`.
        public static let pltGOT: Int64 = 3
        /// `DT_HASH`.
        public static let hash: Int64 = 4
        /// `DT_STRTAB`.
        public static let strtab: Int64 = 5
        /// `DT_SYMTAB`.
        public static let symtab: Int64 = 6
        /// `DT_RELA`.
        public static let rela: Int64 = 7
        /// `DT_RELASZ`.
        public static let relaSize: Int64 = 8
        /// `DT_RELAENT`.
        public static let relaEntrySize: Int64 = 9
        /// `DT_STRSZ`.
        public static let strtabSize: Int64 = 10
        /// `DT_SYMENT`.
        public static let symbolEntrySize: Int64 = 11
        /// `DT_INIT`.
        public static let initFunction: Int64 = 12
        /// `DT_FINI`.
        public static let finiFunction: Int64 = 13
        /// `DT_SONAME`.
        public static let soname: Int64 = 14
        /// `DT_RPATH`.
        public static let rpath: Int64 = 15
        /// `DT_SYMBOLIC`: the image's own definitions bind first (what `-Bsymbolic` sets).
        public static let symbolic: Int64 = 16
        /// `DT_REL`.
        public static let rel: Int64 = 17
        /// `DT_RELSZ`.
        public static let relSize: Int64 = 18
        /// `DT_RELENT`.
        public static let relEntrySize: Int64 = 19
        /// `DT_PLTREL`.
        public static let pltRel: Int64 = 20
        /// `DT_DEBUG`.
        public static let debug: Int64 = 21
        /// `DT_TEXTREL`.
        public static let textRel: Int64 = 22
        /// `DT_JMPREL`.
        public static let jmpRel: Int64 = 23
        /// `DT_BIND_NOW`.
        public static let bindNow: Int64 = 24
        /// `DT_INIT_ARRAY`.
        public static let initArray: Int64 = 25
        /// `DT_FINI_ARRAY`.
        public static let finiArray: Int64 = 26
        /// `DT_INIT_ARRAYSZ`.
        public static let initArraySize: Int64 = 27
        /// `DT_FINI_ARRAYSZ`.
        public static let finiArraySize: Int64 = 28
        /// `DT_RUNPATH`.
        public static let runpath: Int64 = 29
        /// `DT_FLAGS`.
        public static let flags: Int64 = 30
        /// `DT_PREINIT_ARRAY`.
        public static let preinitArray: Int64 = 32
        /// `DT_PREINIT_ARRAYSZ`.
        public static let preinitArraySize: Int64 = 33
        /// `DT_SYMTAB_SHNDX`.
        public static let symtabShndx: Int64 = 34
        /// `DT_RELRSZ`.
        public static let relrSize: Int64 = 35
        /// `DT_RELR`.
        public static let relr: Int64 = 36
        /// `DT_RELRENT`.
        public static let relrEntrySize: Int64 = 37
        /// `DT_GNU_HASH`.
        public static let gnuHash: Int64 = 0x6fff_fef5
        /// `DT_VERSYM`.
        public static let versym: Int64 = 0x6fff_fff0
        /// `DT_RELACOUNT`.
        public static let relaCount: Int64 = 0x6fff_fff9
        /// `DT_RELCOUNT`.
        public static let relCount: Int64 = 0x6fff_fffa
        /// `DT_FLAGS_1`.
        public static let flags1: Int64 = 0x6fff_fffb
        /// `DT_VERDEF`.
        public static let verdef: Int64 = 0x6fff_fffc
        /// `DT_VERDEFNUM`.
        public static let verdefCount: Int64 = 0x6fff_fffd
        /// `DT_VERNEED`.
        public static let verneed: Int64 = 0x6fff_fffe
        /// `DT_VERNEEDNUM`.
        public static let verneedCount: Int64 = 0x6fff_ffff
    }
}
