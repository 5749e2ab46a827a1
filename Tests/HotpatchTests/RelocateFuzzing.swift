import Foundation
import Testing

@testable import Hotpatch

/// Damaged objects for the relocate stage's robustness tests (x86_64 and aarch64): every prefix
/// of an object, and objects with flipped bytes. The rewrite must refuse them with a
/// `RelocateError` or succeed; it never traps on a bad offset, count, index or instruction.
enum RelocateFuzzing {
    /// Relocates every `parts`-th prefix of `bytes` (written to `<directory>/cut.o`) and expects
    /// each to be refused with a `RelocateError`.
    static func expectEveryPrefixRefused(_ bytes: Data, parts: Int, executable: SymbolTable, directory: String) throws {
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / parts)) {
            try bytes.prefix(length).write(to: URL(fileURLWithPath: "\(directory)/cut.o"))
            #expect(throws: RelocateError.self, "cut at \(length)") {
                _ = try RelocatedObjects.make(
                    objects: ["\(directory)/cut.o"], executable: executable, directory: URL(fileURLWithPath: directory))
            }
        }
    }

    /// Relocates 200 copies of `original` with 1–4 flipped bytes each (written to
    /// `<directory>/flipped.o`), half anywhere and half among the tables at the end, where a flip
    /// changes structure. Returns how many succeeded and how many a `RelocateError` refused; any
    /// other error fails the test.
    static func flipBytes(
        of original: [UInt8], seed: UInt64, executable: SymbolTable, directory: String
    ) throws -> (succeeded: Int, refused: Int) {
        var random = SplitMix64(seed: seed)
        var succeeded = 0, refused = 0
        for round in 0..<200 {
            var bytes = original
            for _ in 0..<(1 + round % 4) {
                let offset = round % 2 == 0 ? Int(random.next() % UInt64(bytes.count))
                    : bytes.count - 1 - Int(random.next() % UInt64(min(bytes.count, 64 * 1024)))
                bytes[offset] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/flipped.o"))
            do {
                _ = try RelocatedObjects.make(
                    objects: ["\(directory)/flipped.o"], executable: executable, directory: URL(fileURLWithPath: directory))
                succeeded += 1
            } catch is RelocateError {
                refused += 1
            }
        }
        return (succeeded, refused)
    }
}

/// A small deterministic generator (SplitMix64), so a failing flip can be replayed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
