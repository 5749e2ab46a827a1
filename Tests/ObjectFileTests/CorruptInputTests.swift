import Foundation
import ObjectFile
import Testing

/// Damaged input must give a thrown `ObjectFileError` or a valid result: never a crash or a hang.
@Suite(.serialized)
struct CorruptInputTests {
    /// SplitMix64: a tiny deterministic PRNG so failures reproduce.
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

    /// Reads everything a consumer would: sections, symbols (both APIs), relocations, TLS.
    /// Returns whether the file was accepted; any error must be an `ObjectFileError`.
    @discardableResult
    static func exercise(_ bytes: [UInt8], name: String) -> Bool {
        do {
            let object = try ObjectFile(file: MappedFile(bytes: bytes, name: name))
            var visited = 0
            try object.forEachSymbol { symbol in
                visited += 1
                _ = symbol.nameString
                if let index = symbol.sectionIndex { precondition(index < object.sections.count) }
            }
            let symbols = try object.symbols
            precondition(symbols.count == visited)
            _ = object.tlsSegment
            for section in object.sections { _ = section.fileRange }
            if let elf = object.elf {
                for relocations in elf.relocationSections {
                    for relocation in try elf.relocations(in: relocations).prefix(64) {
                        _ = try? elf.symbol(at: Int(relocation.symbolIndex), in: elf.sections.indices.contains(relocations.symbolTableIndex) ? elf.sections[relocations.symbolTableIndex] : nil)
                    }
                }
                for section in elf.sections.prefix(64) { _ = try? elf.contents(of: section) }
            }
            if let macho = object.machO {
                for section in macho.sections.prefix(64) { _ = try? macho.contents(of: section) }
            }
            return true
        } catch is ObjectFileError {
            return false
        } catch {
            Issue.record("\(name): non-ObjectFileError thrown: \(error)")
            return false
        }
    }

    static func sampleObject(_ flags: [String], _ label: String) throws -> [UInt8] {
        let directory = try Tools.temporaryDirectory("fuzz-\(label)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Tools.compileC(sampleCSource, flags: flags, in: directory, name: "sample")
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static let inputs: [(label: String, flags: [String])] = [
        ("elf-x86_64", ["--target=x86_64-linux-gnu"]),
        ("elf-i386", ["--target=x86_64-linux-gnu", "-m32"]),
        ("elf-ppc64-be", ["--target=powerpc64-linux-gnu"]),
        ("macho-arm64", ["--target=arm64-apple-macos13"]),
        ("macho-x86_64", ["--target=x86_64-apple-macos13"]),
    ]

    @Test("every prefix of a small object throws or parses", arguments: inputs.map(\.label))
    func everyPrefix(label: String) throws {
        let input = try #require(Self.inputs.first { $0.label == label })
        let bytes = try Self.sampleObject(input.flags, label)
        #expect(Self.exercise(bytes, name: label), "the complete file must parse")
        var accepted = 0
        for length in 0..<bytes.count {
            if Self.exercise(Array(bytes[0..<length]), name: "\(label)[0..<\(length)]") { accepted += 1 }
        }
        // Mach-O keeps its symbol table at the end and ELF its section headers: short prefixes fail.
        #expect(accepted < bytes.count / 2)
    }

    @Test("every prefix of a universal file throws or parses")
    func everyPrefixUniversal() throws {
        let arm = try Self.sampleObject(["--target=arm64-apple-macos13"], "fat-arm")
        let intel = try Self.sampleObject(["--target=x86_64-apple-macos13"], "fat-intel")
        let fat = UniversalBuilder.make([
            (UniversalBuilder.arm64.0, UniversalBuilder.arm64.1, arm),
            (UniversalBuilder.x86_64.0, UniversalBuilder.x86_64.1, intel),
        ])
        #expect(Self.exercise(fat, name: "fat"))
        for length in stride(from: 0, to: fat.count, by: 7) {
            Self.exercise(Array(fat[0..<length]), name: "fat[0..<\(length)]")
        }
    }

    @Test("seeded random byte flips throw or parse", arguments: inputs.map(\.label))
    func randomFlips(label: String) throws {
        let input = try #require(Self.inputs.first { $0.label == label })
        let bytes = try Self.sampleObject(input.flags, label)
        var generator = SeededGenerator(state: 0x5eed_0000 &+ UInt64(label.utf8.reduce(0) { $0 &* 31 &+ Int($1) }))
        var accepted = 0
        let rounds = 3000
        for round in 0..<rounds {
            var mutated = bytes
            let flips = Int.random(in: 1...6, using: &generator)
            for _ in 0..<flips {
                // Half of the flips hit the first 512 bytes, where headers and load commands live.
                let limit = Bool.random(using: &generator) ? min(512, mutated.count) : mutated.count
                let offset = Int.random(in: 0..<limit, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: mutated[offset] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
                case 1: mutated[offset] = 0xff
                default: mutated[offset] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            if Self.exercise(mutated, name: "\(label) round \(round)") { accepted += 1 }
        }
        // Flips in code or padding leave a valid file; flips in headers do not.
        #expect(accepted > 0 && accepted < rounds)
    }

    @Test("hand-made hostile headers are rejected quickly", arguments: [
        "elf64 shnum 0 with huge section-zero size", "elf64 e_shentsize 1", "macho ncmds 2^32-1", "macho nsyms 2^32-1",
        "elf32 shstrndx out of range", "fat slice past end",
    ])
    func hostileHeaders(kind: String) throws {
        var bytes: [UInt8]
        func put32(_ value: UInt32, at offset: Int, bigEndian: Bool = false) {
            withUnsafeBytes(of: bigEndian ? value.bigEndian : value.littleEndian) { for i in 0..<4 { bytes[offset + i] = $0[i] } }
        }
        func put64(_ value: UInt64, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { for i in 0..<8 { bytes[offset + i] = $0[i] } }
        }
        switch kind {
        case "elf64 shnum 0 with huge section-zero size":
            bytes = try Self.sampleObject(["--target=x86_64-linux-gnu"], "hostile")
            let shoff = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 40, as: UInt64.self) })
            bytes[60] = 0; bytes[61] = 0  // e_shnum = 0 → count from section 0's sh_size
            put64(UInt64.max / 2, at: shoff + 32)
        case "elf64 e_shentsize 1":
            bytes = try Self.sampleObject(["--target=x86_64-linux-gnu"], "hostile")
            bytes[58] = 1; bytes[59] = 0
        case "macho ncmds 2^32-1":
            bytes = try Self.sampleObject(["--target=arm64-apple-macos13"], "hostile")
            put32(UInt32.max, at: 16)
        case "macho nsyms 2^32-1":
            bytes = try Self.sampleObject(["--target=arm64-apple-macos13"], "hostile")
            let macho = try #require(try ObjectFile(file: MappedFile(bytes: bytes)).machO)
            // Find LC_SYMTAB and set nsyms.
            var cursor = 32
            for _ in 0..<bytes.withUnsafeBytes({ $0.loadUnaligned(fromByteOffset: 16, as: UInt32.self) }) {
                let cmd = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: cursor, as: UInt32.self) }
                if cmd == 2 { put32(UInt32.max, at: cursor + 12); break }
                cursor += Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: cursor + 4, as: UInt32.self) })
            }
            #expect(macho.symtab != nil)
        case "elf32 shstrndx out of range":
            bytes = try Self.sampleObject(["--target=x86_64-linux-gnu", "-m32"], "hostile")
            bytes[50] = 0xf0; bytes[51] = 0x00
        default:
            let thin = try Self.sampleObject(["--target=arm64-apple-macos13"], "hostile")
            bytes = UniversalBuilder.make([(UniversalBuilder.arm64.0, UniversalBuilder.arm64.1, thin)])
            put32(UInt32(bytes.count), at: 8 + 12, bigEndian: true)  // slice size past the end
        }
        let start = ContinuousClock.now
        let accepted = Self.exercise(bytes, name: kind)
        #expect(!accepted, "\(kind) must be rejected")
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}
