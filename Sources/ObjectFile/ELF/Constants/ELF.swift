/// The numbers of the ELF format (System V gABI, glibc's `elf.h`), grouped by the field they go in.
///
/// One table for every reader and writer of the package, so a value can't be spelled twice:
/// `ELFFile` reads with these, ``ELFRelocatableWriter`` and ``ELFFileEditor`` write with them, and
/// the pipeline states its policies (which relocations it rewrites, which flags it tests) in these
/// names. Values are the raw integer types of the fields (`UInt32` for `sh_type`, `UInt64` for
/// ELF64 `sh_flags`, …), so they compare directly with what ``ELFFile`` returns.
public enum ELF {}

extension ELF {
    /// `e_ident`: the 16 bytes that say how to read the rest of the file.
    public enum Identification {
        /// `ELFMAG`: `\x7fELF`.
        public static let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
        /// `EI_NIDENT`: bytes of `e_ident`.
        public static let size = 16
        /// `EI_CLASS`: offset of the class byte.
        public static let classOffset = 4
        /// `EI_DATA`: offset of the byte-order byte.
        public static let dataOffset = 5
        /// `EI_VERSION`: offset of the identification version.
        public static let versionOffset = 6
        /// `EI_OSABI`: offset of the OS/ABI byte.
        public static let osABIOffset = 7

        /// `ELFCLASS32`.
        public static let class32: UInt8 = 1
        /// `ELFCLASS64`.
        public static let class64: UInt8 = 2
        /// `ELFDATA2LSB`: little-endian.
        public static let dataLittleEndian: UInt8 = 1
        /// `ELFDATA2MSB`: big-endian.
        public static let dataBigEndian: UInt8 = 2
        /// `EV_CURRENT`: the only version (of `e_ident[EI_VERSION]` and `e_version`).
        public static let currentVersion: UInt8 = 1
        /// `ELFOSABI_NONE` (`ELFOSABI_SYSV`): no OS extensions.
        public static let osABINone: UInt8 = 0
    }

    /// `e_type`.
    public enum FileType {
        /// `ET_NONE`.
        public static let none: UInt16 = 0
        /// `ET_REL`: a relocatable object.
        public static let relocatable: UInt16 = 1
        /// `ET_EXEC`: an executable at a fixed address.
        public static let executable: UInt16 = 2
        /// `ET_DYN`: a shared object, or a position-independent executable (which has `PT_INTERP`).
        public static let sharedObject: UInt16 = 3
        /// `ET_CORE`.
        public static let core: UInt16 = 4
    }

    /// `e_machine`: the instruction set.
    public enum Machine {
        /// `EM_NONE`.
        public static let none: UInt16 = 0
        /// `EM_386`.
        public static let i386: UInt16 = 3
        /// `EM_MIPS`.
        public static let mips: UInt16 = 8
        /// `EM_PPC`.
        public static let powerPC: UInt16 = 20
        /// `EM_PPC64`.
        public static let powerPC64: UInt16 = 21
        /// `EM_S390`.
        public static let s390: UInt16 = 22
        /// `EM_ARM`.
        public static let arm: UInt16 = 40
        /// `EM_SPARCV9`.
        public static let sparcV9: UInt16 = 43
        /// `EM_X86_64`.
        public static let x86_64: UInt16 = 62
        /// `EM_AARCH64`.
        public static let aarch64: UInt16 = 183
        /// `EM_RISCV`.
        public static let riscV: UInt16 = 243
        /// `EM_LOONGARCH`.
        public static let loongArch: UInt16 = 258

        /// The architecture's name in LLVM's spelling (`x86_64`, `i386`, `aarch64`, `mips64`, …);
        /// `elf-machine-<n>` for one this table doesn't name.
        static func architectureName(_ machine: UInt16, is64: Bool) -> String {
            switch machine {
            case i386: "i386"
            case mips: is64 ? "mips64" : "mips"
            case powerPC: "powerpc"
            case powerPC64: "powerpc64"
            case s390: is64 ? "s390x" : "s390"
            case arm: "arm"
            case sparcV9: "sparcv9"
            case x86_64: "x86_64"
            case aarch64: "aarch64"
            case riscV: is64 ? "riscv64" : "riscv32"
            case loongArch: "loongarch64"
            default: "elf-machine-\(machine)"
            }
        }
    }
}
