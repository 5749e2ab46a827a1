import Foundation
@testable import Hotpatch
import ObjectFile
import Testing

/// The per-binary secondary index (ThinLTO-suffixed names, function starts) answers exactly what
/// the passes over every symbol it replaces answered, and the cache persists it.
@Suite(.serialized)
struct SymbolSecondaryIndexTests {
    /// What the jump table and entry patches computed before the index: a pass over all functions.
    static func scanned(_ table: SymbolTable) -> (suffixed: [String: [SymbolInfo]], starts: [UInt64]) {
        var suffixed: [String: [SymbolInfo]] = [:]
        let functions = table.indices.compactMap { index in
            table.isDefined(at: index) && table.kind(at: index) == .function ? table.symbolInfo(at: index) : nil
        }
        for function in functions where function.name.contains(".llvm.") {
            suffixed[JumpTable.withoutLTOSuffix(function.name), default: []].append(function)
        }
        return (suffixed, Set(functions.map(\.address)).sorted())
    }

    @Test("LTO suffix on bytes matches the String definition")
    func suffixOnBytes() {
        for (name, expected) in [
            ("f.llvm.123", "f"), ("f.llvm.12a", "f.llvm.12a"), ("f.llvm.", "f.llvm."), ("a.llvm.1.llvm.22", "a.llvm.1"),
            ("a.llvm.x.llvm.7", "a.llvm.x"), (".llvm.5", ""), ("plain", "plain"), ("é.llvm.9", "é"), ("f.llvm.٣", "f.llvm.٣"),
        ] {
            #expect(JumpTable.withoutLTOSuffix(name) == expected, "\(name)")
        }
    }

    @Test("index of a Rust binary equals the full pass; the cache persists and reloads it")
    func rustBinary() throws {
        let root = try Tools.temporaryDirectory("secondary-index")
        defer { try? FileManager.default.removeItem(at: root) }
        // A release build with several codegen units gets ThinLTO-suffixed names.
        let binary = try RustProgram.build(
            counterLikeRustSource, name: "app", in: root, flags: ["-Copt-level=2", "-Ccodegen-units=4"])
        let cache = HotpatchModuleCache(directory: root.appendingPathComponent("cache").path)
        let table = try CachedSymbolTable.make(forBinaryAt: binary, architecture: nil, cache: cache).table
        let expected = Self.scanned(table)
        let index = table.secondaryIndex
        #expect(index.functionStarts == expected.starts)
        #expect(Set(index.ltoSuffixedByName.keys) == Set(expected.suffixed.keys))
        for (name, symbols) in expected.suffixed {
            #expect(table.ltoSuffixedFunctions(named: name) == symbols)
            #expect(SymbolList(Array(table.definedFunctions())).ltoSuffixedFunctions(named: name).sorted { $0.address < $1.address }
                == symbols.sorted { $0.address < $1.address })
        }
        for start in expected.starts.prefix(200) {
            #expect(table.functionStart(after: start) == expected.starts.first { $0 > start })
        }

        let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("cache/symbol-index").path)
        #expect(files.count == 1 && files[0].hasSuffix(".widx"))
        // A table decoded fresh from the entry gets the persisted index, equal to a rebuilt one.
        let digest = try HotpatchModuleCache.sha256(ofFileAt: binary)
        let fresh = try #require(cache.loadEntry(forDigest: digest))
        let indexFile = try MappedFile(path: root.appendingPathComponent("cache/symbol-index/\(files[0])").path)
        let loaded = try #require(SymbolIndexFile.decode(indexFile.unsafeBytes, table: fresh, binaryDigest: HotpatchModuleCache.bytes(hex: digest)))
        #expect(loaded == SymbolSecondaryIndex.build(from: fresh))
        #expect(loaded.ltoSuffixedByName == index.ltoSuffixedByName)
        // Another binary's digest, or a damaged byte, is refused.
        #expect(SymbolIndexFile.decode(indexFile.unsafeBytes, table: fresh, binaryDigest: [UInt8](repeating: 0, count: 32)) == nil)
        var damaged = [UInt8](indexFile.unsafeBytes)
        damaged[damaged.count - 1] ^= 0x40
        #expect(damaged.withUnsafeBytes { SymbolIndexFile.decode($0, table: fresh, binaryDigest: HotpatchModuleCache.bytes(hex: digest)) } == nil)
    }
}
