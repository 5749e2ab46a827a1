import Foundation
import Testing

@testable import Hotpatch

/// The aarch64 rewrite's instruction encodings against hand-assembled words (each checked with
/// `llvm-objdump -d`), and the rewrite of a hand-written assembly object against a small C
/// executable: quartets → `adrp` + `ldr`/`add`, the GOT form, local-exec immediates, initial-exec
/// slots, trampolines; malformed input is a `RelocateError`, never a trap.
@Suite struct AArch64RewriteTests {
    // MARK: - Encodings

    @Test func encodingsAreTheHandAssembledWords() {
        #expect(AArch64Instruction.adrp(8) == 0x9000_0008)  // adrp x8, 0
        #expect(AArch64Instruction.adrp(16) == 0x9000_0010)  // adrp x16, 0
        #expect(AArch64Instruction.load64(8, base: 8) == 0xf940_0108)  // ldr x8, [x8]
        #expect(AArch64Instruction.load64(16, base: 16) == 0xf940_0210)  // ldr x16, [x16]
        #expect(AArch64Instruction.add(8, base: 8) == 0x9100_0108)  // add x8, x8, #0
        #expect(AArch64Instruction.add(0, base: 8, immediate: 16) == 0x9100_4100)  // add x0, x8, #16
        #expect(AArch64Instruction.nop == 0xd503_201f)
        #expect(AArch64Instruction.trampoline == [
            0x10, 0x00, 0x00, 0x90,  // adrp x16, slot
            0x10, 0x02, 0x40, 0xf9,  // ldr x16, [x16, #:lo12:slot]
            0x00, 0x02, 0x1f, 0xd6,  // br x16
            0x00, 0x00, 0x20, 0xd4,  // brk #0
        ])
    }

    @Test func moveWidePiecesAreRecognisedOnlyInTheirOwnForm() {
        #expect(AArch64Instruction.moveWideRegister(0xd280_0008, piece: 0) == 8)  // movz x8, #0
        #expect(AArch64Instruction.moveWideRegister(0xf2a0_0008, piece: 1) == 8)  // movk x8, #0, lsl #16
        #expect(AArch64Instruction.moveWideRegister(0xf2c0_0009, piece: 2) == 9)  // movk x9, #0, lsl #32
        #expect(AArch64Instruction.moveWideRegister(0xf2e0_000d, piece: 3) == 13)  // movk x13, #0, lsl #48
        #expect(AArch64Instruction.moveWideRegister(0xf2a0_0008, piece: 2) == nil, "the wrong shift")
        #expect(AArch64Instruction.moveWideRegister(0xf280_0008, piece: 0) == nil, "a movk where the movz belongs")
        #expect(AArch64Instruction.moveWideRegister(0x5280_0008, piece: 0) == nil, "the 32-bit movz w8")
        #expect(AArch64Instruction.moveWideRegister(0xd503_201f, piece: 1) == nil, "a nop")
        #expect(AArch64Instruction.moveWideRegister(0xd280_0008, piece: 4) == nil)
    }

    @Test func localExecImmediatesGoIntoTheAddsOnly() {
        // add x10, x10, #0, lsl #12 → #0x12, lsl #12; add x11, x10, #0 → #0x350.
        #expect(AArch64Instruction.settingAddImmediate(0x9140_014a, to: 0x12, shifted: true) == 0x9140_494a)
        #expect(AArch64Instruction.settingAddImmediate(0x9100_014b, to: 0x350, shifted: false) == 0x910d_414b)
        #expect(AArch64Instruction.settingAddImmediate(0x9100_014b, to: 0x1, shifted: true) == nil, "the unshifted add")
        #expect(AArch64Instruction.settingAddImmediate(0x9140_014a, to: 0x1, shifted: false) == nil, "the shifted add")
        #expect(AArch64Instruction.settingAddImmediate(0xd503_201f, to: 0x1, shifted: false) == nil, "a nop")
        #expect(AArch64Instruction.settingAddImmediate(0x9100_014b, to: 0x1000, shifted: false) == nil, "13 bits")
    }

    // MARK: - Which targets, which flags

    @Test func aarch64LinuxAndAndroidLinkSharedWithTextRelocationsRefused() throws {
        #expect(StaticsRelocation.isSupported(target: "aarch64-unknown-linux-gnu"))
        #expect(StaticsRelocation.isSupported(target: "aarch64-linux-android"))
        #expect(!StaticsRelocation.isSupported(target: "aarch64-unknown-linux-musl"))
        #expect(!StaticsRelocation.isSupported(target: "aarch64-apple-darwin"))
        #expect(StaticsRelocation.isSupported(target: "x86_64-unknown-linux-gnu"))
        #expect(!StaticsRelocation.isSupported(target: "x86_64-linux-android"))
        #expect(!StaticsRelocation.isSupported(target: "x86_64-unknown-linux-musl"))
        #expect(StaticsRelocation.linkerArguments(target: "aarch64-linux-android") == ["-Wl,-z,text"])
        #expect(StaticsRelocation.linkerArguments(target: "x86_64-unknown-linux-gnu") == ["-Wl,-z,notext"])
        // Android: 16 KiB pages from the recipe, -z text from the shared link, never -z notext.
        let android = try LinkPlan.make(
            os: .android, linker: "/ndk/bin/aarch64-linux-android29-clang", capturedArguments: [], objects: ["/p/shared-0-a.o"],
            stubObject: nil, outputPath: "/p/libwhisker-patch-1-abc.so"
        ).addingSharedLibraryFlags(target: "aarch64-linux-android")
        #expect(android.arguments.contains("-Wl,-z,text") && android.arguments.contains("-Wl,-z,max-page-size=16384"))
        #expect(!android.arguments.contains("-Wl,-z,notext"))
        let position = try #require(android.arguments.firstIndex(of: "-o"))
        #expect(try #require(android.arguments.firstIndex(of: "-Wl,-z,text")) < position, "linker flags go before the output")
    }

    // MARK: - Rewritten objects

    /// Every form the rewrite knows, one after the other (GNU as spells the `movk` shifts through
    /// the `abs_g*` modifiers).
    private static let patchSource = """
            .text
            .globl f
            .type f, %function
        f:
            movz x8, #:abs_g0_nc:exe_counter
            nop
            movk x8, #:abs_g1_nc:exe_counter
            movk x8, #:abs_g2_nc:exe_counter
            movk x8, #:abs_g3:exe_counter
            movz x9, #:abs_g0_nc:own_data+8
            movk x9, #:abs_g1_nc:own_data+8
            movk x9, #:abs_g2_nc:own_data+8
            movk x9, #:abs_g3:own_data+8
            mrs x10, tpidr_el0
            add x10, x10, #:tprel_hi12:exe_tls, lsl #12
            add x11, x10, #:tprel_lo12_nc:exe_tls
            adrp x12, :gottprel:exe_tls
            ldr x12, [x12, #:gottprel_lo12:exe_tls]
            movz x13, #:abs_g0_nc:puts
            movk x13, #:abs_g1_nc:puts
            movk x13, #:abs_g2_nc:puts
            movk x13, #:abs_g3:puts
            bl exe_function
            ret
            .section .rodata
            .p2align 3
        own_data:
            .quad 1, 2, exe_counter
        """

    @Test(.enabled(if: A64Fixture.toolsAvailable, "needs aarch64-linux-gnu-gcc, llvm-objdump and readelf"))
    func everyFormIsRewrittenToItsHandCheckedEncoding() throws {
        let fixture = try A64Fixture(patch: Self.patchSource)
        defer { fixture.remove() }
        let relocated = try fixture.relocate()
        let object = relocated.objects[0]
        let words = try A64Fixture.words(of: object)
        let relocations = try A64Fixture.relocations(of: object, section: ".rela.text")
        let main = try #require(fixture.fat.definitions(named: "main").first)
        let counter = try #require(fixture.fat.definitions(named: "exe_counter").first)
        let function = try #require(fixture.fat.definitions(named: "exe_function").first)
        let tls = try #require(fixture.fat.definitions(named: "exe_tls").first)
        let slot = "__whisker_slot_" + A64Fixture.hex(Int64(bitPattern: counter.address &- main.address))

        // The executable's static: adrp + ldr from an address slot (the nop between stays).
        #expect(words[0x0] == 0x9000_0008 && words[0x4] == 0xd503_201f && words[0x8] == 0xf940_0108)
        #expect(words[0xc] == AArch64Instruction.nop && words[0x10] == AArch64Instruction.nop)
        #expect(relocations[0x0] == Reloc("R_AARCH64_ADR_PREL_PG_HI21", slot + " + 0"))
        #expect(relocations[0x8] == Reloc("R_AARCH64_LDST64_ABS_LO12_NC", slot + " + 0"))
        #expect(relocations[0xc]?.type == "R_AARCH64_NONE" && relocations[0x10]?.type == "R_AARCH64_NONE")
        // The patch's own data: adrp + add against it, PC-relative.
        #expect(words[0x14] == 0x9000_0009 && words[0x18] == 0x9100_0129)
        #expect(relocations[0x14] == Reloc("R_AARCH64_ADR_PREL_PG_HI21", ".rodata + 8"))
        #expect(relocations[0x18] == Reloc("R_AARCH64_ADD_ABS_LO12_NC", ".rodata + 8"))
        // Local exec: TLS variant I, tp + align_up(16, p_align) + st_value, no relocation left.
        let tlsAlignment = try #require(fixture.fat.tls?.alignment)
        #expect(tlsAlignment <= 16)
        let offset = tls.address + 16
        #expect(offset >= 0x1000, "the test means to set both immediates")
        #expect(words[0x28] == 0x9140_014a | UInt32(offset >> 12) << 10)
        #expect(words[0x2c] == 0x9100_014b | UInt32(offset & 0xfff) << 10)
        #expect(relocations[0x28]?.type == "R_AARCH64_NONE" && relocations[0x2c]?.type == "R_AARCH64_NONE")
        // Initial exec: the same adrp + ldr, from a thread-pointer slot.
        let tpoff = "__whisker_tpoff_" + A64Fixture.hex(Int64(offset))
        #expect(relocations[0x30] == Reloc("R_AARCH64_ADR_PREL_PG_HI21", tpoff + " + 0"))
        #expect(relocations[0x34] == Reloc("R_AARCH64_LDST64_ABS_LO12_NC", tpoff + " + 0"))
        // libc's puts, which the executable doesn't define: the GOT form.
        #expect(words[0x38] == 0x9000_000d && words[0x3c] == 0xf940_01ad)
        #expect(relocations[0x38] == Reloc("R_AARCH64_ADR_GOT_PAGE", "puts + 0"))
        #expect(relocations[0x3c] == Reloc("R_AARCH64_LD64_GOT_LO12_NC", "puts + 0"))
        // A call into the executable: through a trampoline.
        let jump = "__whisker_jump_" + A64Fixture.hex(Int64(bitPattern: function.address &- main.address))
        #expect(relocations[0x48] == Reloc("R_AARCH64_CALL26", jump + " + 0"))
        #expect(relocated.trampolines == 1)

        // Data: ABS64 against main + delta, and the read-only section made writable.
        let data = try A64Fixture.relocations(of: object, section: ".rela.rodata")
        #expect(data[0x10] == Reloc("R_AARCH64_ABS64", "main + " + String(counter.address - main.address, radix: 16)))
        let sections = try LinkTestTools.runChecked("readelf", ["-SW", object]).stdout
        #expect(sections.range(of: #"\.rodata +PROGBITS +\S+ +\S+ +\S+ +\S+ +WA "#, options: .regularExpression) != nil, "\(sections)")

        // The fixup object is an aarch64 ELF with aarch64 relocations.
        let fixups = relocated.objects[1]
        #expect(try ReadelfView.header(fixups).machine == "AArch64")
        let trampoline = try A64Fixture.relocations(of: fixups, section: ".rela.text")
        #expect(trampoline[0x0] == Reloc("R_AARCH64_ADR_PREL_PG_HI21", "__whisker_slot_" + A64Fixture.hex(Int64(bitPattern: function.address &- main.address)) + " + 0"))
        #expect(trampoline[0x4]?.type == "R_AARCH64_LDST64_ABS_LO12_NC")
        #expect(try A64Fixture.words(of: fixups) == [0x0: 0x9000_0010, 0x4: 0xf940_0210, 0x8: 0xd61f_0200, 0xc: 0xd420_0000])
    }

    @Test(.enabled(if: A64Fixture.toolsAvailable, "needs aarch64-linux-gnu-gcc, llvm-objdump and readelf"))
    func malformedQuartetsAreRelocateErrors() throws {
        let cases: [(String, String)] = [
            ("a quartet missing its g3", "movz x8, #:abs_g0_nc:exe_counter\n movk x8, #:abs_g1_nc:exe_counter\n movk x8, #:abs_g2_nc:exe_counter\n ret"),
            ("a movk without its movz", "movk x8, #:abs_g1_nc:exe_counter\n movk x8, #:abs_g2_nc:exe_counter\n movk x8, #:abs_g3:exe_counter\n ret"),
            ("pieces in two registers", "movz x8, #:abs_g0_nc:exe_counter\n movk x9, #:abs_g1_nc:exe_counter\n movk x9, #:abs_g2_nc:exe_counter\n movk x9, #:abs_g3:exe_counter\n ret"),
            ("a MOVW relocation on a nop", ".reloc ., R_AARCH64_MOVW_UABS_G0_NC, exe_counter\n nop\n movk x8, #:abs_g1_nc:exe_counter\n movk x8, #:abs_g2_nc:exe_counter\n movk x8, #:abs_g3:exe_counter\n ret"),
            ("a TPREL_HI12 on an unshifted add", ".reloc ., R_AARCH64_TLSLE_ADD_TPREL_HI12, exe_tls\n add x8, x8, #0\n ret"),
        ]
        for (what, body) in cases {
            let fixture = try A64Fixture(patch: "    .text\n    .globl f\nf:\n " + body + "\n")
            defer { fixture.remove() }
            #expect(throws: RelocateError.self, "\(what)") { _ = try fixture.relocate() }
            do {
                _ = try fixture.relocate()
            } catch let error as RelocateError {
                guard case .unexpectedInstruction = error else {
                    Issue.record("\(what): \(error.message)")
                    continue
                }
            }
        }
    }

    @Test(.enabled(if: A64Fixture.toolsAvailable, "needs aarch64-linux-gnu-gcc, llvm-objdump and readelf"))
    func truncatedObjectsAreRelocateErrors() throws {
        let fixture = try A64Fixture(patch: Self.patchSource)
        defer { fixture.remove() }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.patchObject))
        try RelocateFuzzing.expectEveryPrefixRefused(bytes, parts: 60, executable: fixture.fat, directory: fixture.directory)
        // A relocation past its section's end (the .text cut short in the header): an error too.
        var shortened = [UInt8](bytes)
        let text = try #require(try ReadelfView.sectionHeaderField(fixture.patchObject, section: ".text"))
        for index in 0..<8 { shortened[text.sizeFieldOffset + index] = index == 0 ? 0x10 : 0 }
        try Data(shortened).write(to: URL(fileURLWithPath: "\(fixture.directory)/short.o"))
        #expect(throws: RelocateError.self) {
            _ = try RelocatedObjects.make(
                objects: ["\(fixture.directory)/short.o"], executable: fixture.fat, directory: URL(fileURLWithPath: fixture.directory))
        }
    }
}

/// One relocation as `readelf -rW` prints it: type and `symbol + addend` (empty for `NONE`).
private struct Reloc: Equatable, CustomStringConvertible {
    var type: String
    var target: String
    init(_ type: String, _ target: String) {
        self.type = type
        self.target = target
    }
    var description: String { "\(type) \(target)" }
}

/// A C aarch64 executable and a patch object assembled from `patch`, in a scratch directory.
private struct A64Fixture {
    let directory: String
    let patchObject: String
    let fat: SymbolTable

    init(patch: String) throws {
        directory = try LinkTestTools.makeScratchDirectory("a64-rewrite")
        try Self.executableSource.write(toFile: "\(directory)/exe.c", atomically: true, encoding: .utf8)
        try LinkTestTools.runChecked("aarch64-linux-gnu-gcc", ["-O0", "-rdynamic", "\(directory)/exe.c", "-o", "\(directory)/exe"])
        try patch.write(toFile: "\(directory)/patch.s", atomically: true, encoding: .utf8)
        patchObject = "\(directory)/patch.o"
        try LinkTestTools.runChecked("aarch64-linux-gnu-gcc", ["-c", "\(directory)/patch.s", "-o", patchObject])
        fat = try SymbolTable.make(contentsOf: "\(directory)/exe")
    }

    /// The cross assembler and compiler, and the tools the assertions read the objects with.
    static let toolsAvailable = ["aarch64-linux-gnu-gcc", "llvm-objdump", "readelf"].allSatisfy { LinkTestTools.which($0) != nil }

    static var executableSource: String {
        """
        long exe_counter = 5;
        __thread char exe_pad[0x12340] = {1};
        __thread long exe_tls = 7;
        void exe_function(void) {}
        int main(void) { exe_function(); return exe_pad[0] + (int)exe_tls + (int)exe_counter; }
        """
    }

    func relocate() throws -> RelocatedObjects {
        try RelocatedObjects.make(objects: [patchObject], executable: fat, directory: URL(fileURLWithPath: directory))
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// `FixupTable`'s spelling of a delta in a slot name.
    static func hex(_ value: Int64) -> String {
        value < 0 ? "m" + String(value.magnitude, radix: 16) : String(value, radix: 16)
    }

    /// The instruction words of `.text` by offset (`llvm-objdump -d`).
    static func words(of object: String) throws -> [UInt64: UInt32] {
        let text = try LinkTestTools.runChecked("llvm-objdump", ["-d", "--section=.text", object]).stdout
        var words: [UInt64: UInt32] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 5, fields[0].hasSuffix(":"), let offset = UInt64(fields[0].dropLast(), radix: 16) else { continue }
            let bytes = fields[1...4].compactMap { UInt8($0, radix: 16) }
            guard bytes.count == 4, fields[1...4].allSatisfy({ $0.count == 2 }) else { continue }
            words[offset] = bytes.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        }
        return words
    }

    /// The relocations of one `.rela` section by offset: type and `symbol + addend` (`readelf -rW`).
    static func relocations(of object: String, section: String) throws -> [UInt64: Reloc] {
        let text = try LinkTestTools.runChecked("readelf", ["-rW", object]).stdout
        var result: [UInt64: Reloc] = [:]
        var inSection = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Relocation section") {
                inSection = line.contains("'\(section)'")
                continue
            }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard inSection, fields.count >= 3, let offset = UInt64(fields[0], radix: 16), fields[2].hasPrefix("R_AARCH64_") else { continue }
            // Offset Info Type [Value Name + Addend]; NONE has no symbol.
            result[offset] = Reloc(fields[2], fields.count >= 7 ? fields[4...].joined(separator: " ") : "")
        }
        return result
    }
}

extension ReadelfView {
    /// The file offset of section `name`'s `sh_size` field (`readelf -hW` for the header table).
    static func sectionHeaderField(_ path: String, section name: String) throws -> (sizeFieldOffset: Int, index: Int)? {
        let header = try LinkTestTools.runChecked("readelf", ["-hW", path]).stdout
        func number(_ label: String) -> Int? {
            header.split(separator: "\n").first { $0.contains(label) }
                .flatMap { $0.split(separator: ":").last?.split(separator: " ").first.flatMap { Int($0) } }
        }
        guard let start = number("Start of section headers"), let size = number("Size of section headers") else { return nil }
        let sections = try LinkTestTools.runChecked("readelf", ["-SW", path]).stdout
        for line in sections.split(separator: "\n") {
            guard let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]"),
                  let index = Int(line[line.index(after: open)..<close].trimmingCharacters(in: .whitespaces))
            else { continue }
            let fields = line[line.index(after: close)...].split(separator: " ").map(String.init)
            if fields.first == name { return (start + index * size + 32, index) }  // sh_size: byte 32 of an ELF64 header
        }
        return nil
    }
}
