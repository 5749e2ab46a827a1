import Foundation
import Hotpatch
import ObjectFile
import Testing

/// Damaged binaries and damaged cache entries: thrown errors or valid tables, never a crash.
@Suite(.serialized)
struct SymbolTableFuzzTests {
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    /// Builds a table and touches every entry and lookup path.
    static func exercise(_ bytes: [UInt8]) -> Bool {
        do {
            let table = try SymbolTable(parsing: ObjectFile(file: MappedFile(bytes: bytes, name: "fuzz")))
            for index in table.indices {
                let entry = table[index]
                _ = entry.demangledName
                precondition(table.allIndices(named: entry.name).contains(index))
            }
            return true
        } catch is ObjectFileError {
            return false
        } catch {
            Issue.record("unexpected error type: \(error)")
            return false
        }
    }

    @Test("random prefixes and byte flips of a Rust binary throw or give a consistent table")
    func damagedRustBinary() throws {
        let directory = try Tools.temporaryDirectory("fuzz-rust")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = try RustProgram.build("fn main() { println!(\"hi\"); }", name: "tiny", in: directory, flags: ["-C", "opt-level=1"])
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: binary)))
        let elf = try #require(try ObjectFile(path: binary).elf)
        let symtab = try #require(elf.symbolTableSection)
        #expect(Self.exercise(bytes))

        var generator = SeededGenerator(state: 42)
        for _ in 0..<60 {
            let length = Int.random(in: 0..<bytes.count, using: &generator)
            _ = Self.exercise(Array(bytes[0..<length]))
        }
        // Flips aimed at the structures a symbol table depends on: headers, section headers,
        // the symbol table itself.
        let shoff = Int(elf.sections.isEmpty ? 0 : bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 40, as: UInt64.self) })
        let regions = [0..<64, shoff..<min(bytes.count, shoff + elf.sections.count * 64),
                       Int(symtab.offset)..<Int(symtab.offset + min(symtab.size, 4096))]
        var accepted = 0
        for _ in 0..<300 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let region = regions[Int.random(in: 0..<regions.count, using: &generator)]
                guard !region.isEmpty else { continue }
                mutated[Int.random(in: region, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if Self.exercise(mutated) { accepted += 1 }
        }
        #expect(accepted < 300)
    }

    @Test("every seeded single-byte corruption of a cache entry is detected")
    func damagedCacheEntries() throws {
        let directory = try Tools.temporaryDirectory("fuzz-cache")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = try RustProgram.build("fn main() { println!(\"hi\"); }", name: "tiny", in: directory)
        let cache = HotpatchModuleCache(directory: directory.appendingPathComponent("cache").path)
        let (original, _) = try cache.symbolTable(forBinaryAt: binary, architecture: nil)
        let entry = try #require(try FileManager.default.contentsOfDirectory(atPath: "\(cache.directory)/symbols").first)
        let path = "\(cache.directory)/symbols/\(entry)"
        let pristine = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var generator = SeededGenerator(state: 7)
        for _ in 0..<40 {
            var mutated = pristine
            let offset = Int.random(in: 0..<mutated.count, using: &generator)
            mutated[offset] ^= UInt8.random(in: 1...255, using: &generator)
            try Data(mutated).write(to: URL(fileURLWithPath: path))
            let (table, outcome) = try cache.symbolTable(forBinaryAt: binary, architecture: nil)
            guard case .rebuiltCorrupt = outcome else {
                Issue.record("corruption at offset \(offset) not detected: \(outcome)")
                continue
            }
            #expect(table.count == original.count)
        }
    }
}
