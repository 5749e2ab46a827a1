/// Raw ELF constants (from the System V ABI and glibc's `elf.h`), kept in one place.
enum ELF {
    static let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]

    // e_ident
    static let classOffset = 4
    static let dataOffset = 5
    static let class32: UInt8 = 1
    static let class64: UInt8 = 2
    static let dataLSB: UInt8 = 1
    static let dataMSB: UInt8 = 2

    // e_type
    static let typeRel: UInt16 = 1
    static let typeExec: UInt16 = 2
    static let typeDyn: UInt16 = 3

    // Section header types
    static let shtSymtab: UInt32 = 2
    static let shtStrtab: UInt32 = 3
    static let shtRela: UInt32 = 4
    static let shtNobits: UInt32 = 8
    static let shtRel: UInt32 = 9
    static let shtDynsym: UInt32 = 11
    static let shtSymtabShndx: UInt32 = 18

    // Section flags
    static let shfWrite: UInt64 = 0x1
    static let shfAlloc: UInt64 = 0x2
    static let shfExecinstr: UInt64 = 0x4
    static let shfTLS: UInt64 = 0x400

    // Special section indices
    static let shnUndef: UInt16 = 0
    static let shnLoReserve: UInt16 = 0xff00
    static let shnAbs: UInt16 = 0xfff1
    static let shnCommon: UInt16 = 0xfff2
    static let shnXindex: UInt16 = 0xffff

    // Symbol types and bindings
    static let sttNotype: UInt8 = 0
    static let sttObject: UInt8 = 1
    static let sttFunc: UInt8 = 2
    static let sttSection: UInt8 = 3
    static let sttFile: UInt8 = 4
    static let sttCommon: UInt8 = 5
    static let sttTLS: UInt8 = 6
    static let sttGnuIfunc: UInt8 = 10
    static let stbLocal: UInt8 = 0
    static let stbGlobal: UInt8 = 1
    static let stbWeak: UInt8 = 2
    static let stbGnuUnique: UInt8 = 10
    static let stvHidden: UInt8 = 2
    static let stvInternal: UInt8 = 1
    static let stvProtected: UInt8 = 3

    // Program header types
    static let ptInterp: UInt32 = 3
    static let ptTLS: UInt32 = 7

    // e_machine
    static func architectureName(machine: UInt16, is64: Bool) -> String {
        switch machine {
        case 3: "i386"
        case 8: is64 ? "mips64" : "mips"
        case 20: "powerpc"
        case 21: "powerpc64"
        case 22: is64 ? "s390x" : "s390"
        case 40: "arm"
        case 43: "sparcv9"
        case 62: "x86_64"
        case 183: "aarch64"
        case 243: is64 ? "riscv64" : "riscv32"
        case 258: "loongarch64"
        default: "elf-machine-\(machine)"
        }
    }
}

/// Layout of the ELF structures this reader uses, for one class (32/64-bit).
struct ELFLayout {
    let is64: Bool

    var headerSize: Int { is64 ? 64 : 52 }
    var sectionHeaderSize: Int { is64 ? 64 : 40 }
    var programHeaderSize: Int { is64 ? 56 : 32 }
    var symbolSize: Int { is64 ? 24 : 16 }
    var relSize: Int { is64 ? 16 : 8 }
    var relaSize: Int { is64 ? 24 : 12 }
}
