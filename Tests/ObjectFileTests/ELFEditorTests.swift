import Foundation
import ObjectFile
import Testing

/// `ELFFileEditor` and `ELFFile.retainSections`: edits land where the reader finds the fields, in
/// every class and byte order, and nothing outside the file is ever written.
@Suite(.serialized)
struct ELFEditorTests {
    @Test func relocationsNamesAndMovedTablesReadBack() throws {
        let original = try ELFWriterTests.writer().bytes()
        let elf = try ELFFile(file: MappedFile(bytes: original, name: "edit.o"))
        var editor = try ELFFileEditor(bytes: original, headersOf: elf)
        let symtab = try #require(elf.symbolTableSection(.symtab))
        let strtab = elf.sections[Int(symtab.link)]
        let symbols = try elf.symbols(in: symtab)
        let jump = try #require(symbols.first { $0.name == "jump" })
        let main = try #require(symbols.first { $0.name == "main" })
        let text = try #require(elf.section(named: ".text"))

        let rela = try #require(elf.relocationSections.first)
        try editor.setRelocation(
            ofEntryAt: elf.fileOffset(ofEntry: 0, in: rela), symbolIndex: UInt32(main.index),
            type: ELF.X86_64Relocation.pc64, addend: 8)
        var strings = try editor.contents(of: strtab)
        let renamed = UInt32(strings.count)
        strings += Array("renamed".utf8) + [0]
        try editor.setNameOffset(renamed, ofSymbol: jump.index, in: symtab)
        var table = try editor.contents(of: symtab)
        let added = UInt32(strings.count)
        strings += Array("added".utf8) + [0]
        table += try editor.encode(ELFSymbolEntry(
            nameOffset: added, binding: ELF.SymbolBinding.global, type: ELF.SymbolType.notype,
            sectionIndex: ELF.SectionIndex.undefined))
        editor.reserveCapacity(forAppending: table.count + strings.count + 8)
        try editor.moveSection(symtab.index, toAppended: table, alignment: 8)
        try editor.moveSection(strtab.index, toAppended: strings, alignment: 1)
        try editor.setFlags(text.flags | ELF.SectionFlags.gnuRetain, ofSection: text.index)

        let edited = try ELFFile(file: MappedFile(bytes: editor.bytes, name: "edited.o"))
        #expect(edited.sections[symtab.index].offset >= UInt64(original.count))
        #expect(edited.sections[symtab.index].offset % 8 == 0)
        #expect(edited.sections[text.index].flags == text.flags | ELF.SectionFlags.gnuRetain)
        let names = try edited.symbols(in: edited.sections[symtab.index]).map(\.name)
        #expect(names.contains("renamed") && names.contains("added") && !names.contains("jump"))
        let editedRela = try #require(edited.relocationSections.first)
        let relocation = try #require(try edited.relocations(in: editedRela).first)
        #expect(relocation.type == ELF.X86_64Relocation.pc64)
        #expect(relocation.symbolIndex == UInt32(main.index) && relocation.addend == 8 && relocation.offset == 2)
        // Nothing moved: the original sections' bytes are where they were.
        #expect(try edited.contents(of: edited.sections[text.index]) == elf.contents(of: text))
    }

    @Test func editsOutsideTheFileThrowAndChangeNothing() throws {
        let original = try ELFWriterTests.writer().bytes()
        let elf = try ELFFile(file: MappedFile(bytes: original, name: "bounds.o"))
        var editor = try ELFFileEditor(bytes: original, headersOf: elf)
        let symtab = try #require(elf.symbolTableSection(.symtab))
        func code(_ body: () throws -> Void) -> ObjectFileError.Code? {
            do { try body() } catch let error as ObjectFileError { return error.code } catch { return nil }
            return nil
        }
        #expect(code { try editor.write(UInt32(1), at: original.count - 2) } == .truncated)
        #expect(code { try editor.write(UInt8(1), at: -1) } == .truncated)
        #expect(code { _ = try editor.read(UInt64.self, at: original.count - 7) } == .truncated)
        #expect(code { try editor.setRelocation(ofEntryAt: original.count - 8, symbolIndex: 1, type: 1, addend: 0) } == .truncated)
        #expect(code { try editor.setFlags(0, ofSection: elf.sections.count) } == .malformed)
        #expect(code { try editor.setNameOffset(0, ofSymbol: 1000, in: symtab) } == .malformed)
        #expect(code { try editor.moveSection(-1, toAppended: [1], alignment: 1) } == .malformed)
        #expect(code { _ = try ELFFileEditor(bytes: Array(original.dropLast()), headersOf: elf) } == .malformed)
        #expect(editor.bytes == original)
    }

    @Test("edits in the file's class and byte order", arguments: ["x86_64", "i386", "powerpc64", "mips"])
    func editsFollowTheFilesLayout(label: String) throws {
        let target = try #require(ELFReaderTests.targets.first { $0.label == label })
        let directory = try Tools.temporaryDirectory("elf-edit-\(label)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Tools.compileC(sampleCSource, flags: target.flags, in: directory, name: "sample")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let elf = try ELFFile(file: MappedFile(bytes: bytes, name: path))
        var editor = try ELFFileEditor(bytes: bytes, headersOf: elf)
        #expect(editor.layout.is64 == target.is64 && editor.isBigEndian == target.bigEndian)

        let symtab = try #require(elf.symbolTableSection(.symtab))
        let symbols = try elf.symbols(in: symtab)
        let function = try #require(symbols.first { $0.name == "func" })
        let other = try #require(symbols.first { $0.name == "weak_func" })
        let nameOffset = try editor.read(UInt32.self, at: editor.symbolEntryOffset(other.index, in: symtab))
        try editor.setNameOffset(nameOffset, ofSymbol: function.index, in: symtab)
        let data = try #require(elf.sections.first { $0.name == ".data" || $0.name.hasPrefix(".data.") })
        try editor.setFlags(data.flags | ELF.SectionFlags.gnuRetain, ofSection: data.index)
        var withAddends: ELFFile.RelocationSection?
        if let rela = elf.relocationSections.first(where: \.hasAddends), try !elf.relocations(in: rela).isEmpty {
            withAddends = rela
            try editor.setRelocation(ofEntryAt: elf.fileOffset(ofEntry: 0, in: rela), symbolIndex: 1, type: 7, addend: -24)
        }

        let edited = try ELFFile(file: MappedFile(bytes: editor.bytes, name: path))
        #expect(try edited.symbol(at: function.index, in: symtab).name == "weak_func")
        #expect(edited.sections[data.index].flags == data.flags | ELF.SectionFlags.gnuRetain)
        #expect(edited.sections.map(\.name) == elf.sections.map(\.name))
        if let withAddends {
            let first = try #require(try edited.relocations(in: withAddends).first)
            #expect(first.symbolIndex == 1 && first.type == 7 && first.addend == -24)
        }
    }

    @Test("retainSections sets SHF_GNU_RETAIN in place", arguments: ["x86_64", "i386", "powerpc64", "mips"])
    func retainSections(label: String) throws {
        let target = try #require(ELFReaderTests.targets.first { $0.label == label })
        let directory = try Tools.temporaryDirectory("elf-retain-\(label)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Tools.compileC(sampleCSource, flags: target.flags + ["-ffunction-sections"], in: directory, name: "sample")
        let before = try ELFFile(file: MappedFile(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), name: path))
        let code = Set(before.sections.filter { $0.flags & ELF.SectionFlags.execinstr != 0 }.map(\.index))
        #expect(!code.isEmpty)

        try ELFFile.retainSections(code, inObjectAt: path)
        let after = try ELFFile(file: MappedFile(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), name: path))
        for (old, new) in zip(before.sections, after.sections) {
            let expected = code.contains(old.index) ? old.flags | ELF.SectionFlags.gnuRetain : old.flags
            #expect(new.flags == expected, "\(label) \(old.name)")
            #expect(new.offset == old.offset && new.size == old.size && new.type == old.type)
        }
        #expect(throws: ObjectFileError.self) { try ELFFile.retainSections([after.sections.count], inObjectAt: path) }
    }
}
