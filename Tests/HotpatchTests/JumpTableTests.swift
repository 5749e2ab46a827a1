import Foundation
import Hotpatch
import Testing

@Suite struct JumpTableTests {
    private static let slide = ASLRSlide(aslrReference: 0x55d0_c0a0_1234, anchorFileAddress: 0x1234)
    private static let old = SymbolList([
        SymbolInfo(name: "main", address: 0x1234, size: 40, kind: .function),
        SymbolInfo(name: "_ZN3app4tick17h00112233aabbccddE", address: 0x5670, size: 90, kind: .function, binding: .local),
        SymbolInfo(name: "_ZN3app6helper17h1111111111111111E", address: 0x5700, kind: .function, binding: .local),
        // Copies of one inline instantiation in two codegen units.
        SymbolInfo(name: "_ZN4core3fmt5write17h2222222222222222E", address: 0x6000, kind: .function, binding: .local),
        SymbolInfo(name: "_ZN4core3fmt5write17h2222222222222222E", address: 0x6100, kind: .function, binding: .local),
        SymbolInfo(name: "removed_fn", address: 0x5800, kind: .function),
        SymbolInfo(name: "step", address: 0x5900, kind: .function, binding: .local),
        SymbolInfo(name: "step", address: 0x5a00, kind: .function, binding: .local),
        SymbolInfo(name: "_init", address: 0x1000, kind: .function),
        SymbolInfo(name: "COUNTER", address: 0x9000, size: 8, kind: .data),
        SymbolInfo(name: "ext_call", address: 0x5b00, kind: .function),
    ])
    private static let new = SymbolList([
        SymbolInfo(name: "main", address: 0x1a000, size: 40, kind: .function),
        SymbolInfo(name: "_ZN3app4tick17h00112233aabbccddE", address: 0x1a2b0, kind: .function, binding: .local),
        SymbolInfo(name: "_ZN3app6helper17h1111111111111111E", address: 0x1a400, kind: .function, binding: .local),
        SymbolInfo(name: "_ZN4core3fmt5write17h2222222222222222E", address: 0x1a500, kind: .function, binding: .local),
        SymbolInfo(name: "added_fn", address: 0x1a600, kind: .function),
        SymbolInfo(name: "step", address: 0x1a700, kind: .function, binding: .local),
        SymbolInfo(name: "_init", address: 0x1000, kind: .function),
        SymbolInfo(name: "COUNTER", address: 0x2000, kind: .data),
        // The stub's trampoline for a function the patch calls.
        SymbolInfo(name: "ext_call", address: 0x1b000, size: 14, kind: .function),
    ])

    private func build() -> JumpTableBuild {
        JumpTableBuild.make(
            patchId: 3, buildId: "b20261125-061500-a1b2c3", libraryPath: "/p/libwhisker-patch-3-a1b2c3.so",
            slide: Self.slide, old: Self.old, new: Self.new, excluding: ["ext_call"])
    }

    @Test func routesEveryFunctionBothSidesDefineByName() {
        let result = build()
        #expect(result.routed == [
            "_ZN3app4tick17h00112233aabbccddE", "_ZN3app6helper17h1111111111111111E",
            "_ZN4core3fmt5write17h2222222222222222E", "main",
        ])
        #expect(result.ambiguous == ["step"])
        #expect(result.table.entries == [
            .init(oldFileAddress: 0x1234, newAddress: 0x1a000),
            .init(oldFileAddress: 0x5670, newAddress: 0x1a2b0),
            .init(oldFileAddress: 0x5700, newAddress: 0x1a400),
            .init(oldFileAddress: 0x6000, newAddress: 0x1a500),
            .init(oldFileAddress: 0x6100, newAddress: 0x1a500),
        ])
        #expect(result.table.newBaseAddress == 0x1a000)
        #expect(result.table.runtimeMap.first?.old == 0x55d0_c0a0_1234)
        #expect(result.table.runtimeMap[1].old == 0x55d0_c0a0_5670 && result.table.runtimeMap[1].new == 0x1a2b0)
    }

    @Test func ourJSONIsTheArchitectureContract() throws {
        let text = build().table.json()
        #expect(text.hasPrefix(
            #"{"patchId":3,"buildId":"b20261125-061500-a1b2c3","lib":"/p/libwhisker-patch-3-a1b2c3.so","aslrReference":"0x55d0c0a01234","newBase":"library","map":[["0x55d0c0a01234","0x1a000"],["0x55d0c0a05670","0x1a2b0"],"#))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(parsed["patchId"] as? Int == 3)
        let map = try #require(parsed["map"] as? [[String]])
        #expect(map.count == 5)
        #expect(map.allSatisfy { $0.count == 2 && $0.allSatisfy { HexAddress.parse($0) != nil && $0 == $0.lowercased() } })
    }

    @Test func subsecondJSONUsesFileAddressesAndNumbers() throws {
        let text = build().table.subsecondJSON()
        #expect(text.hasPrefix(#"{"lib":"/p/libwhisker-patch-3-a1b2c3.so","map":{"4660":106496,"22128":107184,"#))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(parsed["aslr_reference"] as? Int == 0x1234)
        #expect(parsed["new_base_address"] as? Int == 0x1a000)
        #expect(parsed["ifunc_count"] as? Int == 0)
        let map = try #require(parsed["map"] as? [String: Int])
        #expect(map == ["4660": 0x1a000, "22128": 0x1a2b0, "22272": 0x1a400, "24576": 0x1a500, "24832": 0x1a500])
    }

    @Test func reslidingServesAnotherDeviceOfTheSameBuild() {
        let table = build().table
        let other = table.resliding(aslrReference: 0x7f00_0000_1234)
        #expect(other.aslrReference == 0x7f00_0000_1234)
        #expect(other.entries == table.entries)
        #expect(other.runtimeMap.map(\.old) == table.entries.map { 0x7f00_0000_0000 + $0.oldFileAddress })
        #expect(other.subsecondJSON() == table.subsecondJSON())
        #expect(other.json() != table.json())
    }

    @Test func escapesPathsInJSON() throws {
        let table = JumpTable(
            patchId: 1, buildId: "b\"1", libraryPath: "/tmp/a\\b\n\u{1}é.so", slide: Self.slide, entries: [])
        let text = table.json()
        #expect(text.contains(#""lib":"/tmp/a\\b\n\u0001é.so""#))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(parsed["lib"] as? String == "/tmp/a\\b\n\u{1}é.so")
        #expect(parsed["buildId"] as? String == "b\"1")
        #expect(parsed["map"] as? [Any] != nil)
    }

    /// Release builds promote symbols with ThinLTO's `.llvm.<digits>` suffix; the patch (one
    /// codegen unit) has the plain name. They pair; other dotted names don't lose their suffix.
    @Test func thinLTOSuffixesPairWithPlainNames() {
        let trampoline = "_ZN11whisker_hot3hot10trampoline17heb057695c60e9d73E"
        let old = SymbolList([
            SymbolInfo(name: trampoline + ".llvm.1830201619313453489", address: 0x8000, size: 32, kind: .function, binding: .local),
            SymbolInfo(name: "helper.cold", address: 0x9000, size: 8, kind: .function, binding: .local),
        ])
        let new = SymbolList([
            SymbolInfo(name: trampoline, address: 0x100, size: 32, kind: .function, binding: .local),
            SymbolInfo(name: "helper", address: 0x200, size: 8, kind: .function, binding: .local),
        ])
        let build = JumpTableBuild.make(
            patchId: 1, buildId: "b", libraryPath: "/l.so", slide: ASLRSlide(aslrReference: 0x1000, anchorFileAddress: 0x1000),
            old: old, new: new)
        #expect(build.table.entries == [.init(oldFileAddress: 0x8000, newAddress: 0x100)])
        #expect(JumpTable.withoutLTOSuffix("f.llvm.123") == "f")
        #expect(JumpTable.withoutLTOSuffix("f.llvm.12a") == "f.llvm.12a")
        #expect(JumpTable.withoutLTOSuffix("f.llvm.") == "f.llvm.")
    }

    @Test func aPatchWithoutMainHasNoNewBase() {
        let result = JumpTableBuild.make(
            patchId: 1, buildId: "b", libraryPath: "/l.so", slide: Self.slide, old: Self.old,
            new: SymbolList([SymbolInfo(name: "removed_fn", address: 0x10, kind: .function)]))
        #expect(result.table.newBaseAddress == 0)
        #expect(result.table.entries == [.init(oldFileAddress: 0x5800, newAddress: 0x10)])
    }
}
