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
            let table = try SymbolTable.make(parsing: ObjectFile(file: MappedFile(bytes: bytes, name: "fuzz")))
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
        let original = try CachedSymbolTable.make(forBinaryAt: binary, architecture: nil, cache: cache).table
        let entry = try #require(try FileManager.default.contentsOfDirectory(atPath: "\(cache.directory)/symbols").first)
        let path = "\(cache.directory)/symbols/\(entry)"
        let pristine = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var generator = SeededGenerator(state: 7)
        for _ in 0..<40 {
            var mutated = pristine
            let offset = Int.random(in: 0..<mutated.count, using: &generator)
            mutated[offset] ^= UInt8.random(in: 1...255, using: &generator)
            try Data(mutated).write(to: URL(fileURLWithPath: path))
            let tableRead = try CachedSymbolTable.make(forBinaryAt: binary, architecture: nil, cache: cache)
            let (table, outcome) = (tableRead.table, tableRead.outcome)
            guard case .rebuiltCorrupt = outcome else {
                Issue.record("corruption at offset \(offset) not detected: \(outcome)")
                continue
            }
            #expect(table.count == original.count)
        }
    }

    @Test("mutated and exponentially back-referencing Rust names demangle or not, quickly")
    func hostileNames() throws {
        let directory = try Tools.temporaryDirectory("fuzz-names")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = try RustProgram.build(counterLikeRustSource, name: "names", in: directory)
        let names = try SymbolTable.make(contentsOf: binary).map(\.name).filter { $0.hasPrefix("_R") || $0.hasPrefix("_ZN") }
        #expect(names.count > 100)
        var generator = SeededGenerator(state: 99)
        let alphabet = Array("_RNvCsIEBKLGDFTAS0123456789abcxyz$.".utf8)
        let start = ContinuousClock.now
        for _ in 0..<5000 {
            var bytes = Array(names[Int.random(in: 0..<names.count, using: &generator)].utf8)
            for _ in 0..<Int.random(in: 1...3, using: &generator) where bytes.count > 3 {
                let index = Int.random(in: 2..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes.remove(at: index)
                case 1: bytes.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &generator)], at: index)
                default: bytes[index] = alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
                }
            }
            _ = RustDemangler.demangle(String(decoding: bytes, as: UTF8.self))
        }
        // Each level is a tuple of the previous level twice: 2^levels nodes if expanded.
        func bomb(levels: Int) -> String {
            var name = "_RINvC1a1bTmmE"
            var previous = 8  // position of the first tuple ("TmmE") after "_R"
            for _ in 0..<levels {
                let here = name.utf8.count - 2
                name += "TB\(base62(previous))B\(base62(previous))E"
                previous = here
            }
            return name + "E"
        }
        #expect(RustDemangler.demangle(bomb(levels: 2)) == "a::b::<(u32, u32), ((u32, u32), (u32, u32)), (((u32, u32), (u32, u32)), ((u32, u32), (u32, u32)))>")
        #expect(RustDemangler.demangle(bomb(levels: 40)) == nil)
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    private func base62(_ value: Int) -> String {
        guard value > 0 else { return "_" }
        let digits = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var n = value - 1
        var text = ""
        repeat {
            text = String(digits[n % 62]) + text
            n /= 62
        } while n > 0
        return text + "_"
    }
}
