/// Raw Mach-O constants (from `<mach-o/loader.h>`, `<mach-o/nlist.h>`, `<mach-o/fat.h>`).
enum MachO {
    static let magic64: UInt32 = 0xfeed_facf
    static let magic32: UInt32 = 0xfeed_face
    static let cigam64: UInt32 = 0xcffa_edfe
    static let cigam32: UInt32 = 0xcefa_edfe
    static let fatMagic: UInt32 = 0xcafe_babe
    static let fatMagic64: UInt32 = 0xcafe_babf

    static let headerSize64 = 32
    static let fatHeaderSize = 8
    static let fatArchSize = 20
    static let fatArch64Size = 32

    // File types
    static let mhObject: UInt32 = 1
    static let mhExecute: UInt32 = 2
    static let mhDylib: UInt32 = 6
    static let mhBundle: UInt32 = 8

    // Load commands
    static let lcSymtab: UInt32 = 0x2
    static let lcSegment64: UInt32 = 0x19
    static let segment64CommandSize = 72
    static let section64Size = 80
    static let symtabCommandSize = 24
    static let nlist64Size = 16

    // Section types (low byte of flags) and attributes
    static let sectionTypeMask: UInt32 = 0xff
    static let sZeroFill: UInt32 = 0x1
    static let sGBZeroFill: UInt32 = 0xc
    static let sThreadLocalRegular: UInt32 = 0x11
    static let sThreadLocalZeroFill: UInt32 = 0x12
    static let sThreadLocalVariables: UInt32 = 0x13
    static let sAttrPureInstructions: UInt32 = 0x8000_0000
    static let sAttrSomeInstructions: UInt32 = 0x0000_0400

    // nlist n_type
    static let nStab: UInt8 = 0xe0
    static let nPext: UInt8 = 0x10
    static let nTypeMask: UInt8 = 0x0e
    static let nExt: UInt8 = 0x01
    static let nUndf: UInt8 = 0x0
    static let nAbs: UInt8 = 0x2
    static let nSect: UInt8 = 0xe
    static let nPbud: UInt8 = 0xc
    static let nIndr: UInt8 = 0xa

    // nlist n_desc
    static let nWeakRef: UInt16 = 0x40
    static let nWeakDef: UInt16 = 0x80

    // CPU types
    static let cpuArch64: UInt32 = 0x0100_0000
    static let cpuArch64_32: UInt32 = 0x0200_0000
    static let cpuTypeX86: UInt32 = 7
    static let cpuTypeARM: UInt32 = 12
    static let cpuTypePowerPC: UInt32 = 18

    /// Architecture name as Apple's tools spell it (`arm64`, `x86_64`, …).
    static func architectureName(cpuType: UInt32, cpuSubtype: UInt32) -> String {
        switch cpuType {
        case cpuTypeX86 | cpuArch64: (cpuSubtype & 0xff) == 8 ? "x86_64h" : "x86_64"
        case cpuTypeARM | cpuArch64: (cpuSubtype & 0xff) == 2 ? "arm64e" : "arm64"
        case cpuTypeARM | cpuArch64_32: "arm64_32"
        case cpuTypeX86: "i386"
        case cpuTypeARM: "arm"
        case cpuTypePowerPC: "ppc"
        case cpuTypePowerPC | cpuArch64: "ppc64"
        default: "cpu-\(cpuType)"
        }
    }
}
