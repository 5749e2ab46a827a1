import Foundation
@testable import Hotpatch
import ObjectFile
import Testing

/// Damaged objects: a typed error or a result, never a crash.
@Suite(.serialized) struct FunctionDiffFuzzTests {
    /// Reads every function body (which describes every relocation target and digests the
    /// constants they reach).
    static func exercise(_ bytes: [UInt8]) -> Bool {
        do {
            let object = try RelocatableObject(file: MappedFile(bytes: bytes, name: "fuzz.o"))
            _ = try object.functionBodies().map(\.fingerprint)
            return true
        } catch {
            return false
        }
    }

    @Test("truncations and byte flips of a clang object and a rustc object throw or compare")
    func damagedObjects() throws {
        let directory = try LinkTestTools.makeScratchDirectory("fndiff-fuzz")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let c = try LinkTestTools.compileC(FunctionDiffTests.before, in: directory, name: "c", flags: FunctionDiffTests.flags)
        let rust = try FunctionDiffRustTests.compileObject(FunctionDiffRustTests.crateV1, in: URL(fileURLWithPath: directory + "/rust"))
        var generator = SymbolTableFuzzTests.SeededGenerator(state: 7)
        for path in [c, rust] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(Self.exercise(bytes))
            for _ in 0..<40 {
                _ = Self.exercise(Array(bytes[0..<Int.random(in: 0..<bytes.count, using: &generator)]))
            }
            let elf = try #require(try ObjectFile(path: path).elf)
            // Flips aimed at what the comparison reads: section headers, symbols, relocations.
            let targets = elf.sections.filter { [2, 4, 9].contains($0.type) }.map { Int($0.offset)..<Int($0.offset + $0.size) }
                + [0..<64]
            var survived = 0
            for _ in 0..<400 {
                var mutated = bytes
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    guard let region = targets.randomElement(using: &generator), !region.isEmpty else { continue }
                    mutated[Int.random(in: region, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                if Self.exercise(mutated) { survived += 1 }
            }
            #expect(survived > 0, "some flips leave a readable object")
        }
    }
}
