import Foundation
import Testing

@testable import Hotpatch

/// The shared link's fixup object, read back by `readelf`: trampolines jump through their slots
/// (`PC32` − 4 at the `jmp *disp32(%rip)` displacement), address slots hold `main + delta`, thread-pointer
/// slots their constant, and `main` is the one undefined, exported-visibility symbol.
@Suite struct FixupObjectTests {
    @Test func trampolinesAndSlotsAreWhatReadelfSees() throws {
        var table = FixupTable()
        let jump = table.trampoline(delta: 0x1230)
        let slot = table.symbol(for: .address(delta: -0x40))
        let tls = table.symbol(for: .threadPointerOffset(-0x38))
        let bytes = try FixupObject(table: table).bytes()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fixups-\(UUID().uuidString).o").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let relocations = try LinkTestTools.runChecked("readelf", ["-rW", path]).stdout
        #expect(relocations.contains(".rela.text"))
        #expect(relocations.range(of: #"0+2 +\S+ R_X86_64_PC32 +0+ __whisker_slot_1230 - 4"#, options: .regularExpression) != nil, "\(relocations)")
        #expect(relocations.range(of: #"R_X86_64_64 +0+ main \+ 1230"#, options: .regularExpression) != nil, "\(relocations)")
        #expect(relocations.range(of: #"R_X86_64_64 +0+ main - 40"#, options: .regularExpression) != nil, "\(relocations)")

        let symbols = try LinkTestTools.runChecked("readelf", ["-sW", path]).stdout
        #expect(symbols.range(of: #"FUNC +GLOBAL +HIDDEN +1 \#(jump)"#, options: .regularExpression) != nil, "\(symbols)")
        for name in [slot, tls] {
            #expect(symbols.range(of: #"OBJECT +GLOBAL +HIDDEN +2 \#(name)"#, options: .regularExpression) != nil, "\(symbols)")
        }
        #expect(symbols.range(of: #"NOTYPE +GLOBAL +DEFAULT +UND main"#, options: .regularExpression) != nil, "\(symbols)")

        // The thread-pointer slot is the third 8-byte slot: its constant, with no relocation.
        let data = try LinkTestTools.runChecked("readelf", ["-x", ".data", path]).stdout
        #expect(data.contains("c8ffffff ffffffff"), "\(data)")
    }
}
