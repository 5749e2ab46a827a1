import Hotpatch
import Testing

@Suite struct NeededSymbolsTests {
    private let fat = SymbolList([
        SymbolInfo(name: "ext_fn", address: 0x1130, size: 20, kind: .function),
        SymbolInfo(name: "ext_data", address: 0x4010, size: 8, kind: .data),
        SymbolInfo(name: "ext_tls", address: 0x0, size: 4, kind: .threadLocal),
        SymbolInfo(name: "ext_ifunc", address: 0x1200, kind: .indirectFunction),
        SymbolInfo(name: "asm_label", address: 0x1300, kind: .other),
        SymbolInfo(name: "printf", address: 0, kind: .function, isDefined: false),
        SymbolInfo(name: "__dso_handle", address: 0x4008, kind: .data, binding: .local),
        // The same C name in two files: nothing can tell which one the patch means.
        SymbolInfo(name: "helper", address: 0x1400, kind: .function, binding: .local),
        SymbolInfo(name: "helper", address: 0x1500, kind: .function, binding: .local),
        // One global among locals: a reference from another object binds to the global.
        SymbolInfo(name: "shared", address: 0x1600, kind: .function, binding: .local),
        SymbolInfo(name: "shared", address: 0x1700, kind: .function, binding: .global),
        // Copies of one Rust instantiation in two codegen units.
        SymbolInfo(name: "_ZN4core3ptr13drop_in_place17h0123456789abcdefE", address: 0x1900, kind: .function, binding: .local),
        SymbolInfo(name: "_ZN4core3ptr13drop_in_place17h0123456789abcdefE", address: 0x1800, kind: .function, binding: .local),
        // Aliases at one address are one symbol.
        SymbolInfo(name: "alias", address: 0x1a00, kind: .function, binding: .local),
        SymbolInfo(name: "alias", address: 0x1a00, kind: .function, binding: .weak),
    ])

    @Test func sortsEachReferenceByHowItIsBound() {
        let needed = NeededSymbols.make(
            undefinedInPatch: [
                "printf", "ext_fn", "ext_data", "ext_tls", "ext_ifunc", "asm_label", "__dso_handle", "helper",
                "shared", "_ZN4core3ptr13drop_in_place17h0123456789abcdefE", "alias", "ext_fn", "memcpy",
            ],
            fatBinary: fat)
        #expect(needed.functions == [
            .init(name: "_ZN4core3ptr13drop_in_place17h0123456789abcdefE", fileAddress: 0x1800),
            .init(name: "alias", fileAddress: 0x1a00),
            .init(name: "ext_fn", fileAddress: 0x1130, size: 20),
            .init(name: "shared", fileAddress: 0x1700),
        ])
        #expect(needed.data == [.init(name: "asm_label", fileAddress: 0x1300), .init(name: "ext_data", fileAddress: 0x4010, size: 8)])
        #expect(needed.boundByLoader == ["ext_ifunc", "ext_tls"])
        #expect(needed.leftUndefined == ["__dso_handle", "memcpy", "printf"])
        #expect(needed.ambiguous == [.init(name: "helper", fileAddresses: [0x1400, 0x1500])])
        #expect(needed.needsStub)
    }

    @Test func nothingNeededFromTheExecutableMeansNoStub() {
        let needed = NeededSymbols.make(undefinedInPatch: ["printf", "_GLOBAL_OFFSET_TABLE_", "__start_my_section"], fatBinary: fat)
        #expect(!needed.needsStub)
        #expect(needed.leftUndefined == ["_GLOBAL_OFFSET_TABLE_", "__start_my_section", "printf"])
    }

    @Test func slideRoundTripsAndWraps() {
        let slide = ASLRSlide(aslrReference: 0x55d0_c0a0_1234, anchorFileAddress: 0x1234)
        #expect(slide.offset == 0x55d0_c0a0_0000)
        #expect(slide.runtimeAddress(ofFileAddress: 0x5670) == 0x55d0_c0a0_5670)
        #expect(slide.fileAddress(ofRuntimeAddress: 0x55d0_c0a0_5670) == 0x5670)
        let backwards = ASLRSlide(aslrReference: 0x1000, anchorFileAddress: 0x2000)
        #expect(backwards.runtimeAddress(ofFileAddress: 0x2100) == 0x1100)
    }

    @Test(arguments: [
        ("0x55d0c0a01234", UInt64(0x55d0_c0a0_1234)), ("0XFF", 0xff), ("0xffffffffffffffff", UInt64.max), ("0x0", 0),
    ])
    func parsesHexAddresses(text: String, value: UInt64) {
        #expect(HexAddress.parse(text) == value)
    }

    @Test(arguments: ["", "0x", "1234", "0x1_000", "0x10000000000000000", " 0x10", "-0x1", "0xg"])
    func rejectsMalformedHexAddresses(text: String) {
        #expect(HexAddress.parse(text) == nil)
    }

    @Test func formatsHexAddressesLowercase() {
        #expect(HexAddress.format(0x55D0_C0A0_1234) == "0x55d0c0a01234")
        #expect(HexAddress.format(0) == "0x0")
    }

    @Test func architectureAndOSFromTriples() {
        #expect(StubArchitecture(triple: "x86_64-unknown-linux-gnu") == .x86_64)
        #expect(StubArchitecture(triple: "aarch64-linux-android") == .aarch64)
        #expect(StubArchitecture(triple: "arm64-apple-ios") == .aarch64)
        #expect(StubArchitecture(triple: "riscv64gc-unknown-linux-gnu") == nil)
        #expect(LinkerOS(triple: "x86_64-unknown-linux-gnu") == .linux)
        #expect(LinkerOS(triple: "aarch64-linux-android") == .android)
        #expect(LinkerOS(triple: "armv7-linux-androideabi") == .android)
        #expect(LinkerOS(triple: "aarch64-apple-darwin") == .macos)
        #expect(LinkerOS(triple: "x86_64-pc-windows-msvc") == nil)
    }
}
