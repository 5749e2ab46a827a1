import Foundation
import Hotpatch
import Testing

/// The stub object as the real tools see it: readelf and llvm-nm accept it and list exactly the
/// symbols asked for; llvm-objdump disassembles the trampolines to the expected instructions.
@Suite(.serialized) struct StubObjectELFTests {
    private static let needed = NeededSymbols(
        functions: [.init(name: "ext_fn", fileAddress: 0x1130), .init(name: "_ZN3app4tick17h0011223344556677E", fileAddress: 0x2240)],
        data: [.init(name: "ext_data", fileAddress: 0x4010, size: 8)])
    private static let slide = ASLRSlide(aslrReference: 0x5555_5555_6000, anchorFileAddress: 0x1000)  // offset 0x5555_5555_5000

    private func writeStub(_ architecture: StubArchitecture, in directory: String) throws -> (String, StubObject) {
        let path = "\(directory)/stub-\(architecture.rawValue).o"
        let stub = try StubObject.make(needed: Self.needed, slide: Self.slide, architecture: architecture, path: path)
        return (path, stub)
    }

    @Test(arguments: StubArchitecture.allCases)
    func readelfAndNmListExactlyTheNeededSymbols(architecture: StubArchitecture) throws {
        let directory = try LinkTestTools.makeScratchDirectory("stub")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, stub) = try writeStub(architecture, in: directory)
        #expect(stub.trampolines.map(\.target) == [0x5555_5555_6130, 0x5555_5555_7240])
        #expect(stub.trampolines.map(\.offset) == [0, 16])

        let header = try LinkTestTools.runChecked("readelf", ["-hSW", path]).stdout
        #expect(header.contains("REL (Relocatable file)"))
        #expect(header.contains(architecture == .x86_64 ? "Advanced Micro Devices X86-64" : "AArch64"))
        for section in [".text", ".note.GNU-stack", ".symtab", ".strtab", ".shstrtab"] {
            #expect(header.contains(" \(section) "), "section \(section) missing:\n\(header)")
        }

        let symbols = try LinkTestTools.readelfSymbols(path).filter { $0.kind != .other }
        #expect(symbols.map(\.name) == ["ext_fn", "_ZN3app4tick17h0011223344556677E", "ext_data"])
        #expect(symbols.map(\.kind) == [.function, .function, .data])
        #expect(symbols.allSatisfy { $0.binding == .global && $0.isDefined })
        #expect(symbols.map(\.address) == [0, 16, 0x5555_5555_9010])
        #expect(symbols.map(\.size) == [architecture == .x86_64 ? 14 : 16, architecture == .x86_64 ? 14 : 16, 8])

        // Hidden visibility, `.text` for trampolines, SHN_ABS for data; the section symbol is the
        // only local, so `.symtab`'s sh_info (first global) is 2.
        let table = try LinkTestTools.runChecked("readelf", ["-sW", path]).stdout
        let rows = table.split(separator: "\n").filter { $0.contains("ext_") || $0.contains("tick") }
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { $0.contains(" HIDDEN ") })
        #expect(rows.filter { $0.contains(" ABS ") }.count == 1 && rows.first { $0.contains(" ABS ") }?.contains("ext_data") == true)
        let sectionTable = try LinkTestTools.runChecked("readelf", ["-SW", path]).stdout
        let symtabRow = sectionTable.split(separator: "\n").first { $0.contains(".symtab") }.map(String.init) ?? ""
        // [Nr] Name Type Address Off Size ES Flg Lk Inf Al
        let fields = symtabRow.split(separator: "]").last?.split(separator: " ").map(String.init) ?? []
        #expect(fields.suffix(3) == ["4", "2", "8"], "symtab row: \(symtabRow)")

        let nm = try LinkTestTools.nmSymbols(path)
        #expect(Set(nm.keys) == ["ext_fn", "_ZN3app4tick17h0011223344556677E", "ext_data"])
        #expect(nm["ext_fn"]?.type == "T")
        #expect(nm["ext_data"]?.type == "A")
        #expect(nm["ext_data"]?.value == 0x5555_5555_9010)
    }

    @Test func x86_64TrampolinesJumpThroughTheirLiteral() throws {
        let directory = try LinkTestTools.makeScratchDirectory("stub")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, _) = try writeStub(.x86_64, in: directory)
        let listing = try LinkTestTools.runChecked("llvm-objdump", ["-d", "--no-show-raw-insn", path]).stdout
        let jumps = listing.split(separator: "\n").filter { $0.contains("jmp") }
        #expect(jumps.count == 2, "\(listing)")
        #expect(jumps.allSatisfy { $0.contains("*(%rip)") })
        // The literal after each jump holds the runtime target, little-endian.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let text = try textSection(of: path, bytes: bytes)
        #expect(Array(text[0..<6]) == [0xff, 0x25, 0, 0, 0, 0])
        #expect(littleEndianWord(text, at: 6) == 0x5555_5555_6130)
        #expect(littleEndianWord(text, at: 22) == 0x5555_5555_7240)
    }

    @Test func aarch64TrampolinesLoadX16AndBranch() throws {
        let directory = try LinkTestTools.makeScratchDirectory("stub")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, _) = try writeStub(.aarch64, in: directory)
        let listing = try LinkTestTools.runChecked("llvm-objdump", ["-d", path]).stdout
        let lines = listing.split(separator: "\n").map(String.init)
        let loads = lines.filter { $0.contains("ldr") && $0.contains("x16") }
        let branches = lines.filter { $0.contains("br") && $0.contains("x16") }
        #expect(loads.count == 2, "\(listing)")
        // `ldr x16, 0x18 <…+0x8>` at 0x10: each load reads the literal 8 bytes past itself.
        for load in loads {
            let address = load.split(separator: ":").first.flatMap { UInt64($0.trimmingCharacters(in: .whitespaces), radix: 16) }
            let target = load.split(separator: ",").last?.split(separator: " ").first.flatMap { UInt64($0.dropFirst(2), radix: 16) }
            #expect(address.map { $0 + 8 } == target, "\(load)")
        }
        #expect(branches.count == 2)
        // llvm-objdump shows the raw words: the literal 0x0000555555556130 follows the first `br`.
        let firstBranch = try #require(lines.firstIndex { $0.contains("br") && $0.contains("x16") })
        let literalLow = lines[firstBranch + 1], literalHigh = lines[firstBranch + 2]
        #expect(literalLow.contains("30 61 55 55"), "\(listing)")
        #expect(literalHigh.contains("55 55 00 00"), "\(listing)")
    }

    @Test func emptyStubIsStillAValidObject() throws {
        let directory = try LinkTestTools.makeScratchDirectory("stub")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/empty.o"
        try StubObject.make(needed: NeededSymbols(), slide: Self.slide, architecture: .x86_64, path: path)
        let header = try LinkTestTools.runChecked("readelf", ["-hSsW", path])
        #expect(header.stderr.isEmpty, "\(header.stderr)")
        #expect(try LinkTestTools.nmSymbols(path).isEmpty)
    }

    @Test func refusesNamesELFCannotCarryOrThatRepeat() {
        let bad = NeededSymbols(functions: [.init(name: "a\u{0}b", fileAddress: 1)])
        #expect(throws: StubObjectError.self) { try StubObject(needed: bad, slide: Self.slide, architecture: .x86_64).elfBytes() }
        let twice = NeededSymbols(functions: [.init(name: "x", fileAddress: 1)], data: [.init(name: "x", fileAddress: 2)])
        do {
            _ = try StubObject(needed: twice, slide: Self.slide, architecture: .aarch64).elfBytes()
            Issue.record("a name asked for twice was accepted")
        } catch {
            #expect(error.code == "duplicate_symbol")
            #expect(error.description.contains("\"x\""))
        }
    }

    @Test func unwritablePathIsAClearError() {
        do {
            try StubObject.make(needed: Self.needed, slide: Self.slide, architecture: .x86_64, path: "/nonexistent-dir/stub.o")
            Issue.record("writing into a missing directory succeeded")
        } catch {
            #expect(error.code == "write_failed")
            #expect(error.message.contains("/nonexistent-dir/stub.o"))
        }
    }

    private func textSection(of path: String, bytes: [UInt8]) throws -> [UInt8] {
        let sections = try LinkTestTools.runChecked("readelf", ["-SW", path]).stdout
        let row = try #require(sections.split(separator: "\n").first { $0.contains(" .text ") })
        let fields = row.split(separator: "]").last?.split(separator: " ").map(String.init) ?? []
        // Name Type Address Off Size …
        let offset = try #require(Int(fields[3], radix: 16)), size = try #require(Int(fields[4], radix: 16))
        return Array(bytes[offset..<(offset + size)])
    }

    private func littleEndianWord(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
}
