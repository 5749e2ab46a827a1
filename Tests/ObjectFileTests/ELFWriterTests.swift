import Foundation
import ObjectFile
import Testing

/// Objects from `ELFRelocatableWriter`, read back by `ELFFile` and by readelf: what the stub and
/// the shared link's fixup object are made of.
@Suite struct ELFWriterTests {
    static let textFlags = ELF.SectionFlags.alloc | ELF.SectionFlags.execinstr
    static let dataFlags = ELF.SectionFlags.write | ELF.SectionFlags.alloc

    /// A trampoline in `.text` jumping through a slot in `.data` that holds `main + 0x40`.
    static func writer() -> ELFRelocatableWriter {
        let text = ELFRelocatableWriter.firstContentSectionIndex
        return ELFRelocatableWriter(
            machine: ELF.Machine.x86_64,
            sections: [
                .init(name: ".text", flags: textFlags, alignment: 16, bytes: [0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc],
                      relocations: [.init(offset: 2, symbol: "slot", type: ELF.X86_64Relocation.pc32, addend: -4)]),
                .init(name: ".data", flags: dataFlags, alignment: 8, bytes: [UInt8](repeating: 0, count: 8),
                      relocations: [.init(offset: 0, symbol: "main", type: ELF.X86_64Relocation.abs64, addend: 0x40)]),
            ],
            globals: [
                .init(name: "jump", value: 0, size: 6, type: ELF.SymbolType.function, sectionIndex: text),
                .init(name: "slot", value: 0, size: 8, type: ELF.SymbolType.object, sectionIndex: text + 1),
                .init(name: "fixed", value: 0x1234, size: 4, type: ELF.SymbolType.object, sectionIndex: ELF.SectionIndex.absolute),
                .init(name: "main", value: 0, size: 0, type: ELF.SymbolType.notype, sectionIndex: ELF.SectionIndex.undefined,
                      hidden: false),
            ])
    }

    @Test func sectionsSymbolsAndRelocationsReadBack() throws {
        let elf = try ELFFile(file: MappedFile(bytes: try Self.writer().bytes(), name: "written.o"))
        #expect(elf.is64 && !elf.isBigEndian)
        #expect(elf.machine == ELF.Machine.x86_64)
        #expect(elf.fileType == .relocatable)
        #expect(elf.sections.map(\.name) == [
            "", ".text", ".data", ".rela.text", ".rela.data", ".note.GNU-stack", ".symtab", ".strtab", ".shstrtab",
        ])
        let text = try #require(elf.section(named: ".text"))
        #expect(text.type == ELF.SectionType.progbits)
        #expect(text.flags == Self.textFlags)
        #expect(text.alignment == 16 && text.offset % 16 == 0)
        #expect(try elf.contents(of: text) == [0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc])
        #expect(elf.section(named: ".data")?.flags == Self.dataFlags)

        // Null, two section symbols, then the globals; sh_info is the first global.
        let symtab = try #require(elf.symbolTableSection(.symtab))
        #expect(symtab.info == 3)
        let symbols = try elf.symbols(in: symtab)
        #expect(symbols.prefix(2).allSatisfy { $0.kind == .section && $0.binding == .local })
        let byName = Dictionary(symbols.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byName["jump"]?.kind == .function)
        #expect(byName["jump"]?.sectionIndex == 1)
        #expect(byName["jump"]?.flags.contains(.hidden) == true)
        #expect(byName["slot"]?.sectionIndex == 2)
        #expect(byName["fixed"]?.flags.contains(.absolute) == true)
        #expect(byName["fixed"]?.value == 0x1234)
        #expect(byName["main"]?.isDefined == false)
        #expect(byName["main"]?.flags.contains(.hidden) == false)
        #expect(symbols.filter { $0.kind != .section }.allSatisfy { $0.binding == .global })

        let relocations = try elf.relocationSections.map { try ($0.targetSectionIndex, elf.relocations(in: $0)) }
        #expect(relocations.map(\.0) == [1, 2])
        let jump = try #require(relocations.first?.1.first)
        #expect(jump.offset == 2 && jump.type == ELF.X86_64Relocation.pc32 && jump.addend == -4)
        #expect(jump.symbolIndex == UInt32(try #require(byName["slot"]).index))
        let slot = try #require(relocations.last?.1.first)
        #expect(slot.type == ELF.X86_64Relocation.abs64 && slot.addend == 0x40)
        #expect(slot.symbolIndex == UInt32(try #require(byName["main"]).index))
    }

    @Test func readelfAcceptsTheObject() throws {
        let directory = try Tools.temporaryDirectory("elf-writer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("written.o").path
        try Data(try Self.writer().bytes()).write(to: URL(fileURLWithPath: path))
        let readelf = try Tools.run(Tools.which("readelf") ?? "readelf", ["-hSsrW", path])
        #expect(readelf.status == 0)
        #expect(readelf.stderr.isEmpty, "\(readelf.stderr)")
        #expect(readelf.stdout.contains("REL (Relocatable file)"))
        #expect(readelf.stdout.range(of: #"R_X86_64_PC32 +0+ slot - 4"#, options: .regularExpression) != nil, "\(readelf.stdout)")
        #expect(readelf.stdout.range(of: #"FUNC +GLOBAL +HIDDEN +1 jump"#, options: .regularExpression) != nil, "\(readelf.stdout)")
        #expect(readelf.stdout.range(of: #"OBJECT +GLOBAL +HIDDEN +ABS fixed"#, options: .regularExpression) != nil, "\(readelf.stdout)")
    }

    @Test func whatTheFormatCannotCarryIsAnError() {
        var writer = Self.writer()
        writer.globals[0].name = "bad\u{0}name"
        #expect(throws: ELFWriteError.invalidName("bad\u{0}name")) { try writer.bytes() }

        writer = Self.writer()
        writer.sections[0].relocations[0].symbol = "nowhere"
        #expect(throws: ELFWriteError.unknownRelocationSymbol("nowhere")) { try writer.bytes() }

        writer = Self.writer()
        writer.sections[1].alignment = 24
        #expect(throws: ELFWriteError.invalidAlignment(section: ".data", alignment: 24)) { try writer.bytes() }
    }
}
