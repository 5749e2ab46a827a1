import Foundation
@testable import Hotpatch
import Testing

/// `--entry-patching`: the JSON contract of `entryPatches`, and which functions a patch
/// entry-patches, derived from a real fat binary, a real patch library and a real per-function diff.
@Suite(.serialized) struct EntryPatchTests {
    private static let slide = ASLRSlide(aslrReference: 0x55d0_c0a0_1234, anchorFileAddress: 0x1234)

    @Test func entryPatchesRoundTripThroughOurJSONAndSlideLikeTheMap() throws {
        let table = JumpTable(
            patchId: 4, buildId: "b1", libraryPath: "/p/lib.so", slide: Self.slide,
            entries: [.init(oldFileAddress: 0x5670, newAddress: 0x1a2b0), .init(oldFileAddress: 0x5700, newAddress: 0x1a400)],
            entryPatches: [.init(oldFileAddress: 0x5670, newAddress: 0x1a2b0, oldSize: 112)])
        let text = table.json()
        #expect(text.hasSuffix(#","map":[["0x55d0c0a05670","0x1a2b0"],["0x55d0c0a05700","0x1a400"]],"entryPatches":[["0x55d0c0a05670","0x1a2b0",112]]}"#))

        // Back from the JSON, through the slide, to the same values.
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let patches = try #require(parsed["entryPatches"] as? [[Any]])
        let decoded = try patches.map { triple -> JumpTable.EntryPatch in
            let old = try #require((triple[0] as? String).flatMap(HexAddress.parse))
            let new = try #require((triple[1] as? String).flatMap(HexAddress.parse))
            let size = try #require(triple[2] as? Int)
            return .init(oldFileAddress: Self.slide.fileAddress(ofRuntimeAddress: old), newAddress: new, oldSize: UInt64(size))
        }
        #expect(decoded == table.entryPatches)

        // Another device of the build: old addresses slide, new ones and sizes do not.
        let other = table.resliding(aslrReference: 0x7f00_0000_1234)
        #expect(other.entryPatches == table.entryPatches)
        #expect(other.runtimeEntryPatches.map(\.old) == [0x7f00_0000_5670])
        #expect(other.json().contains(#""entryPatches":[["0x7f0000005670","0x1a2b0",112]]"#))
    }

    @Test func withoutEntryPatchesTheFieldIsAbsent() {
        let table = JumpTable(patchId: 1, buildId: "b", libraryPath: "/l.so", slide: Self.slide, entries: [])
        #expect(!table.json().contains("entryPatches"))
        #expect(!table.subsecondJSON().contains("entryPatches"))
    }

    /// A fat binary built from v1, a patch library from v2 (one function edited), the diff of the
    /// two objects: exactly the edited function is entry-patched, at the address and size llvm-nm
    /// reports in the binary, to the address llvm-nm reports in the library; its unchanged caller
    /// is routed but not entry-patched.
    @Test func derivesEntryPatchesForChangedFunctionsOnlyFromRealBinaries() throws {
        let directory = try Tools.temporaryDirectory("entry-patches")
        defer { try? FileManager.default.removeItem(at: directory) }
        let rustc = try #require(RustProgram.rustc, "rustc is not installed")
        let v1 = FunctionDiffRustTests.crateV1 + "\nfn main() { println!(\"{} {}\", generic_users(), edited(hit())); }\n"
        let v2 = v1.replacingOccurrences(of: "x.wrapping_mul(3)", with: "x.wrapping_mul(5) ^ 1")

        let fatDirectory = directory.appendingPathComponent("fat")
        try FileManager.default.createDirectory(at: fatDirectory, withIntermediateDirectories: true)
        try v1.write(to: fatDirectory.appendingPathComponent("lib.rs"), atomically: true, encoding: .utf8)
        let binary = fatDirectory.appendingPathComponent("fxcrate").path
        _ = try Tools.runChecked(rustc, [
            "--crate-name", "fxcrate", "--crate-type", "bin", "--edition", "2021", "-C", "metadata=0123abcd",
            "-C", "codegen-units=1", "--remap-path-prefix", "\(fatDirectory.path)=src", "-o", binary,
            fatDirectory.appendingPathComponent("lib.rs").path,
        ])
        let oldObject = try FunctionDiffRustTests.compileObject(v1, in: directory.appendingPathComponent("v1"), crateType: "bin")
        let newObject = try FunctionDiffRustTests.compileObject(v2, in: directory.appendingPathComponent("v2"), crateType: "bin")
        let library = directory.appendingPathComponent("libpatch.so").path
        _ = try Tools.runChecked(Tools.clang, ["-shared", "-fuse-ld=lld", "-o", library, newObject])

        let fatSymbols = try SymbolTable.make(contentsOf: binary)
        let librarySymbols = try SymbolTable.make(contentsOf: library)
        let tableBuild = JumpTableBuild.make(
            patchId: 1, buildId: "b1", libraryPath: library, slide: ASLRSlide(aslrReference: 0x1000, anchorFileAddress: 0x1000),
            old: fatSymbols, new: librarySymbols)
        let diff = try DiffReport.make(oldObjects: [oldObject], newObjects: [newObject]).routing(tableBuild.routed)
        let edited = try #require(diff.changed.first)
        #expect(diff.changed.map(FunctionDiffRustTests.demangled) == ["fxcrate::edited"])
        let caller = try #require(diff.routed.first { FunctionDiffRustTests.demangled($0.name) == "fxcrate::main" })
        #expect(caller.reason == .callsChangedCode)

        let layout = ProjectLayout(project: directory, cacheDirectory: directory.appendingPathComponent("cache"))
        var patcher = Patcher(layout: layout)
        #expect(try patcher.addingEntryPatches(to: tableBuild.table, fatSymbols: fatSymbols, diff: diff) == tableBuild.table, "off by default")
        patcher.entryPatching = true
        let patched = try patcher.addingEntryPatches(to: tableBuild.table, fatSymbols: fatSymbols, diff: diff)
        #expect(patched.entries == tableBuild.table.entries)

        let binarySymbols = try LLVMNm.symbols(binary)
        let inBinary = try #require(binarySymbols.first { $0.name == edited })
        let inLibrary = try #require(try LLVMNm.symbols(library).first { $0.name == edited })
        // `edited` is 5 bytes (imul + ret), shorter than a jump; the jump may also cover the
        // alignment padding up to the next function, which llvm-nm shows as the next text symbol.
        let next = try #require(binarySymbols.filter { "tT".contains($0.type) && $0.value > inBinary.value }.map(\.value).min())
        let writable = next - inBinary.value
        #expect(inBinary.size > 0 && writable >= inBinary.size && writable <= inBinary.size + 64 && writable % 16 == 0, "\(inBinary.size) → \(writable)")
        #expect(patched.entryPatches == [
            .init(oldFileAddress: inBinary.value, newAddress: inLibrary.value, oldSize: writable),
        ])
        #expect(patched.json().contains(#""entryPatches":[["\#(HexAddress.format(inBinary.value))","\#(HexAddress.format(inLibrary.value))",\#(writable)]]"#))
    }

    @Test func copiesAreAllPatchedAndUnroutedOrUnknownNamesAreNot() {
        let fat = SymbolList([
            SymbolInfo(name: "_ZN3app4tick17h00112233aabbccddE", address: 0x5000, size: 64, kind: .function, binding: .local),
            SymbolInfo(name: "_ZN3app4tick17h00112233aabbccddE", address: 0x6000, size: 64, kind: .function, binding: .local),
            SymbolInfo(name: "step", address: 0x7000, size: 30, kind: .function, binding: .local),
            SymbolInfo(name: "step", address: 0x7100, size: 30, kind: .function, binding: .local),
            SymbolInfo(name: "unrouted", address: 0x7200, size: 30, kind: .function),
        ])
        let table = JumpTable(
            patchId: 1, buildId: "b", libraryPath: "/l.so", slide: Self.slide,
            entries: [.init(oldFileAddress: 0x5000, newAddress: 0x100), .init(oldFileAddress: 0x6000, newAddress: 0x100)])
        let patches = EntryPatches.make(
            table: table, fatSymbols: fat, changed: ["_ZN3app4tick17h00112233aabbccddE", "step", "unrouted", "added_only_in_patch"]).patches
        #expect(patches == [
            .init(oldFileAddress: 0x5000, newAddress: 0x100, oldSize: 64),
            .init(oldFileAddress: 0x6000, newAddress: 0x100, oldSize: 64),
        ])
    }

    /// A function entry-patched by patch 1 and untouched by patch 2 still gets patch 2's code:
    /// its old entry would otherwise keep jumping into patch 1, whose copies call stale callees.
    @Test func laterPatchesKeepEarlierEntryPatchesCurrent() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("entry-cumulative-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var patcher = Patcher(layout: ProjectLayout(project: directory, cacheDirectory: directory.appendingPathComponent("cache")))
        patcher.entryPatching = true
        try FileManager.default.createDirectory(at: patcher.layout.root, withIntermediateDirectories: true)
        let fat = SymbolList([
            SymbolInfo(name: "f", address: 0x5000, size: 64, kind: .function, binding: .local),
            SymbolInfo(name: "g", address: 0x6000, size: 64, kind: .function, binding: .local),
        ])
        func table(_ id: Int, build: String = "b") -> JumpTable {
            JumpTable(patchId: id, buildId: build, libraryPath: "/l\(id).so", slide: Self.slide,
                      entries: [.init(oldFileAddress: 0x5000, newAddress: 0x100 * UInt64(id)), .init(oldFileAddress: 0x6000, newAddress: 0x180 * UInt64(id))])
        }
        func diff(_ changed: [String]) -> DiffReport {
            var report = DiffReport(added: [], removed: [], kept: [])
            report.changed = changed
            return report
        }
        let first = try patcher.addingEntryPatches(to: table(1), fatSymbols: fat, diff: diff(["f"]))
        #expect(first.entryPatches.map(\.oldFileAddress) == [0x5000])
        let second = try patcher.addingEntryPatches(to: table(2), fatSymbols: fat, diff: diff(["g"]))
        #expect(second.entryPatches == [
            .init(oldFileAddress: 0x5000, newAddress: 0x200, oldSize: 64),
            .init(oldFileAddress: 0x6000, newAddress: 0x300, oldSize: 64),
        ])
        // A new fat build starts over.
        let rebuilt = try patcher.addingEntryPatches(to: table(3, build: "b2"), fatSymbols: fat, diff: diff(["g"]))
        #expect(rebuilt.entryPatches.map(\.oldFileAddress) == [0x6000])
    }
}
