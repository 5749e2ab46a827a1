import Foundation
import ObjectFile
import Testing

/// Mach-O and universal files against llvm-nm, on objects clang makes here.
@Suite(.serialized)
struct MachOReaderTests {
    static let targets: [(label: String, triple: String, architecture: String)] = [
        ("arm64", "arm64-apple-macos13", "arm64"),
        ("x86_64", "x86_64-apple-macos13", "x86_64"),
    ]

    private func compile(_ label: String, in directory: URL) throws -> String {
        let target = try #require(Self.targets.first { $0.label == label })
        return try Tools.compileC(sampleCSource, flags: ["--target=\(target.triple)"], in: directory, name: "sample-\(label)")
    }

    @Test("clang -c Mach-O objects: symbols equal llvm-nm -P -S", arguments: ["arm64", "x86_64"])
    func objectMatchesLLVMNm(label: String) throws {
        let directory = try Tools.temporaryDirectory("macho-\(label)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try compile(label, in: directory)
        let object = try ObjectFile(path: path)
        #expect(object.format == .machO)
        #expect(object.containerFormat == .machO)
        #expect(object.architecture == label)
        #expect(object.fileType == .relocatable)

        let ours = try Comparison.ours(object)
        let theirs = Comparison.theirs(try LLVMNm.symbols(path))
        #expect(theirs.count >= 8)
        let difference = multisetDifference(ours, theirs)
        #expect(difference.isEmpty, "\(label): \(difference.joined(separator: "\n"))")

        let byName = Dictionary(try object.symbols.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byName["_func"]?.kind == .function)
        #expect(byName["_func"]?.binding == .global)
        #expect(byName["_tls_var"]?.kind == .tls)
        #expect(byName["_common_var"]?.kind == .common)
        #expect(byName["_common_var"]?.size == 4)
        #expect(byName["_local_var"]?.binding == .local)
        #expect(byName["_local_var"]?.kind == .object)
        #expect(byName["_weak_func"]?.binding == .weak)
        #expect(byName["_weak_func"]?.flags.contains(.weakDefinition) == true)
        #expect(byName["_hidden_func"]?.flags.contains(.privateExtern) == true)
        #expect(byName["_undef_func"]?.isDefined == false)
        let text = try #require(byName["_func"]?.sectionIndex.map { object.sections[$0] })
        #expect(text.segment == "__TEXT" && text.name == "__text")
        #expect(text.flags.contains(.executable))
    }

    @Test("Mach-O sizes run to the next symbol in the section, the last to the section end")
    func derivedSizes() throws {
        let directory = try Tools.temporaryDirectory("macho-sizes")
        defer { try? FileManager.default.removeItem(at: directory) }
        let object = try ObjectFile(path: try compile("arm64", in: directory))
        let symbols = try object.symbols.filter { $0.sectionIndex != nil && !$0.flags.contains(.debug) }
        for (sectionIndex, group) in Dictionary(grouping: symbols, by: { $0.sectionIndex ?? -1 }) {
            let section = object.sections[sectionIndex]
            let starts = Set(group.map(\.value)).sorted()
            for symbol in group {
                #expect(symbol.flags.contains(.derivedSize))
                let next = starts.first { $0 > symbol.value } ?? (section.address + section.size)
                #expect(symbol.size == next - symbol.value, "\(symbol.name) in \(section.name)")
            }
        }
        #expect(symbols.contains { $0.name == "_func" && $0.size > 0 })
    }

    @Test("N_STAB entries are flagged .debug and hidden like llvm-nm hides them")
    func stabsAreFlagged() throws {
        let directory = try Tools.temporaryDirectory("macho-stab")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try compile("x86_64", in: directory)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let macho = try #require(try ObjectFile(path: path).machO)
        let symtab = try #require(macho.symtab)
        // Turn the first symbol into an N_FUN stab entry (n_type 0x24).
        bytes[Int(symtab.symbolOffset) + 4] = 0x24
        let patched = directory.appendingPathComponent("stab.o")
        try Data(bytes).write(to: patched)
        let object = try ObjectFile(path: patched.path)
        let first = try #require(try object.symbols.first)
        #expect(first.flags.contains(.debug))
        let difference = multisetDifference(try Comparison.ours(object), Comparison.theirs(try LLVMNm.symbols(patched.path)))
        #expect(difference.isEmpty, "\(difference.joined(separator: "\n"))")
    }

    @Test("universal files: slices by architecture, host default, missing slice error", arguments: [false, true])
    func universal(use64BitTable: Bool) throws {
        let directory = try Tools.temporaryDirectory("fat")
        defer { try? FileManager.default.removeItem(at: directory) }
        let arm = try compile("arm64", in: directory)
        let intel = try compile("x86_64", in: directory)
        let fat = UniversalBuilder.make([
            (UniversalBuilder.arm64.0, UniversalBuilder.arm64.1, [UInt8](try Data(contentsOf: URL(fileURLWithPath: arm)))),
            (UniversalBuilder.x86_64.0, UniversalBuilder.x86_64.1, [UInt8](try Data(contentsOf: URL(fileURLWithPath: intel)))),
        ], use64BitTable: use64BitTable)
        let path = directory.appendingPathComponent("fat.o").path
        try Data(fat).write(to: URL(fileURLWithPath: path))

        let universal = try UniversalFile(file: MappedFile(path: path))
        #expect(universal.slices.map(\.architecture) == ["arm64", "x86_64"])
        #expect(universal.is64 == use64BitTable)

        for (architecture, thin) in [("arm64", arm), ("x86_64", intel), ("aarch64", arm)] {
            let object = try ObjectFile(path: path, architecture: architecture)
            #expect(object.containerFormat == .universal)
            #expect(object.format == .machO)
            #expect(ObjectFile.canonicalArchitecture(object.architecture) == ObjectFile.canonicalArchitecture(architecture))
            let ours = try Comparison.ours(object)
            #expect(multisetDifference(ours, try Comparison.ours(ObjectFile(path: thin))).isEmpty)
            if !use64BitTable {  // llvm-nm 14 reads FAT_MAGIC; compare with it directly too
                let nmArch = architecture == "aarch64" ? "arm64" : architecture
                let theirs = Comparison.theirs(try LLVMNm.symbols(path, extra: ["--arch=\(nmArch)"]))
                let difference = multisetDifference(ours, theirs)
                #expect(difference.isEmpty, "\(architecture): \(difference.joined(separator: "\n"))")
            }
            // Section offsets are file offsets (slice offset included).
            let slice = try #require(universal.slices.first { ObjectFile.canonicalArchitecture($0.architecture) == ObjectFile.canonicalArchitecture(architecture) })
            let text = try #require(object.sections.first { $0.name == "__text" })
            #expect(text.fileOffset >= slice.offset && text.fileOffset + text.fileSize <= slice.offset + slice.size)
        }
        let byDefault = try ObjectFile(path: path)
        let host = ObjectFile.hostArchitecture
        #expect(byDefault.architecture == (["arm64", "x86_64"].contains(host) ? host : "arm64"))

        let missing = try #require(throws: ObjectFileError.self) { try ObjectFile(path: path, architecture: "ppc64") }
        #expect(missing.code == .architectureNotFound)
        #expect(missing.description.contains("arm64, x86_64"))
        let thinMismatch = try #require(throws: ObjectFileError.self) { try ObjectFile(path: arm, architecture: "x86_64") }
        #expect(thinMismatch.code == .architectureNotFound)
    }

    /// Found by `scripts/fuzz.sh` (fuzz-macho, fuzz-universal): an `LC_SYMTAB` whose `nsyms` claims
    /// billions of entries made `symbols()` reserve that many before the table was checked — a
    /// 61 GB allocation and a crash instead of an error. The count is now bounded by the file.
    @Test("an LC_SYMTAB claiming more symbols than the file holds is an error, not an allocation", arguments: ["arm64", "x86_64"])
    func hugeSymbolCount(label: String) throws {
        let directory = try Tools.temporaryDirectory("macho-nsyms-\(label)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try compile(label, in: directory))))
        func u32(_ offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) } }
        // mach_header_64 (32 bytes), then the load commands; LC_SYMTAB (2): symoff, nsyms, stroff, strsize.
        var cursor = 32
        var symtab: Int?
        for _ in 0..<u32(16) {
            if u32(cursor) == 2 { symtab = cursor; break }
            cursor += Int(u32(cursor + 4))
        }
        let command = try #require(symtab, "clang's object has an LC_SYMTAB")
        for (index, byte) in [UInt8](arrayLiteral: 0xff, 0xff, 0xff, 0x7f).enumerated() { bytes[command + 12 + index] = byte }

        let macho = try MachOFile(file: MappedFile(bytes: bytes, name: "huge-nsyms.o"))
        #expect(macho.symbolCount <= bytes.count / 16, "bounded by the file, not the header")
        let error = try #require(throws: ObjectFileError.self) { try macho.symbols() }
        #expect(error.code == .truncated)
        let fat = UniversalBuilder.make([(UniversalBuilder.arm64.0, UniversalBuilder.arm64.1, bytes)])
        let object = try ObjectFile(file: MappedFile(bytes: fat, name: "huge-nsyms-fat.o"), architecture: "arm64")
        #expect(object.symbolCountEstimate <= fat.count / 16)
        #expect(throws: ObjectFileError.self) { try object.symbols }
    }

    @Test("a universal table claiming more slices than fit is rejected")
    func universalBounds() throws {
        var bytes: [UInt8] = [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 20]
        bytes += [UInt8](repeating: 0, count: 40)
        let error = try #require(throws: ObjectFileError.self) { try ObjectFile(file: MappedFile(bytes: bytes, name: "fat")) }
        #expect(error.code == .truncated)
        let java: [UInt8] = [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x34] + [UInt8](repeating: 0, count: 64)
        let javaError = try #require(throws: ObjectFileError.self) { try ObjectFile(file: MappedFile(bytes: java, name: "A.class")) }
        #expect(javaError.code == .malformed)
    }
}
