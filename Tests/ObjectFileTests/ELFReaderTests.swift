import Foundation
import ObjectFile
import Testing

/// ELF symbols, sections and relocations against llvm-nm and readelf on objects made here.
@Suite(.serialized)
struct ELFReaderTests {
    /// clang targets giving 64/32-bit, little/big-endian ELF objects.
    static let targets: [(label: String, flags: [String], architecture: String, is64: Bool, bigEndian: Bool)] = [
        ("x86_64", ["--target=x86_64-linux-gnu"], "x86_64", true, false),
        ("i386", ["--target=x86_64-linux-gnu", "-m32"], "i386", false, false),
        ("aarch64-android", ["--target=aarch64-linux-android24"], "aarch64", true, false),
        ("powerpc64", ["--target=powerpc64-linux-gnu"], "powerpc64", true, true),
        ("mips", ["--target=mips-linux-gnu"], "mips", false, true),
    ]

    @Test("clang -c objects: symbols equal llvm-nm -P -S", arguments: targets.map(\.label))
    func objectMatchesLLVMNm(label: String) throws {
        let target = try #require(Self.targets.first { $0.label == label })
        let directory = try Tools.temporaryDirectory("elf-\(label)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Tools.compileC(sampleCSource, flags: target.flags, in: directory, name: "sample")

        let object = try ObjectFile(path: path)
        #expect(object.format == .elf)
        #expect(object.architecture == target.architecture)
        #expect(object.fileType == .relocatable)
        let elf = try #require(object.elf)
        #expect(elf.is64 == target.is64)
        #expect(elf.isBigEndian == target.bigEndian)

        let ours = try Comparison.ours(object)
        let theirs = Comparison.theirs(try LLVMNm.symbols(path))
        #expect(theirs.count >= 8, "llvm-nm listed too little to compare: \(theirs)")
        let difference = multisetDifference(ours, theirs)
        #expect(difference.isEmpty, "\(label): \(difference.joined(separator: "\n"))")

        // Kinds and bindings the sample source fixes.
        let byName = Dictionary(try object.symbols.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byName["func"]?.binding == .global)
        #expect(byName["weak_func"]?.binding == .weak)
        #expect(byName["local_var"]?.binding == .local)
        #expect(byName["undef_func"]?.isDefined == false)
        #expect(byName["hidden_func"]?.flags.contains(.hidden) == true)
        #expect(byName["common_var"]?.kind == .common)
        if label != "aarch64-android" {  // Android uses emulated TLS (__emutls_v.*)
            #expect(byName["tls_var"]?.kind == .tls)
        }
        if label != "powerpc64" {  // ELFv1 function symbols point at .opd descriptors
            #expect(byName["func"]?.kind == .function)
            let text = try #require(byName["func"]?.sectionIndex.map { object.sections[$0] })
            #expect(text.name.hasPrefix(".text"))
            #expect(text.flags.contains(.executable))
        }
    }

    @Test("relocations equal readelf -r", arguments: ["x86_64", "i386", "aarch64-android", "powerpc64", "mips"])
    func relocationsMatchReadelf(label: String) throws {
        let target = try #require(Self.targets.first { $0.label == label })
        let directory = try Tools.temporaryDirectory("rel-\(label)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Tools.compileC(sampleCSource, flags: target.flags, in: directory, name: "sample")
        let elf = try #require(try ObjectFile(path: path).elf)

        var ours: [String] = []
        for section in elf.relocationSections {
            #expect(elf.sections[section.targetSectionIndex].name.count > 0)
            for relocation in try elf.relocations(in: section) {
                let info = elf.is64
                    ? UInt64(relocation.symbolIndex) << 32 | UInt64(relocation.type)
                    : UInt64(relocation.symbolIndex) << 8 | UInt64(relocation.type)
                ours.append("\(String(relocation.offset, radix: 16)) \(String(info, radix: 16)) \(section.hasAddends ? String(relocation.addend) : "-")")
            }
        }
        let readelf = try Tools.runChecked(Tools.which("readelf") ?? "readelf", ["-r", "-W", path]).stdout
        var theirs: [String] = []
        var hasAddends = false
        for line in readelf.split(separator: "\n") {
            if line.hasPrefix("Relocation section") { hasAddends = line.contains(".rela") }
            let fields = line.split(separator: " ")
            guard fields.count >= 3, let offset = UInt64(fields[0], radix: 16), let info = UInt64(fields[1], radix: 16) else {
                continue
            }
            var addend = "-"
            if hasAddends, fields.count >= 2, let sign = fields.dropLast().last, sign == "+" || sign == "-",
               let magnitude = UInt64(fields[fields.count - 1], radix: 16) {
                addend = sign == "-" ? String(-Int64(bitPattern: magnitude)) : String(Int64(bitPattern: magnitude))
            } else if hasAddends, let last = fields.last, let absolute = UInt64(last, radix: 16), fields.count == 4 {
                // No symbol: readelf prints the addend alone.
                addend = String(Int64(bitPattern: absolute))
            }
            theirs.append("\(String(offset, radix: 16)) \(String(info, radix: 16)) \(addend)")
        }
        #expect(!ours.isEmpty)
        #expect(ours == theirs)
    }

    @Test("symbol(at:) decodes a relocation's symbol")
    func symbolAtIndex() throws {
        let directory = try Tools.temporaryDirectory("symat")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Tools.compileC(sampleCSource, flags: ["--target=x86_64-linux-gnu"], in: directory, name: "sample")
        let elf = try #require(try ObjectFile(path: path).elf)
        let text = try #require(elf.sections.firstIndex { $0.name == ".text" })
        let relocations = try elf.relocationSections(forSection: text).flatMap { try elf.relocations(in: $0) }
        let names = try relocations.map { try elf.symbol(at: Int($0.symbolIndex)).name }
        #expect(names.contains("undef_func"))
        #expect(names.contains("ext_var"))
        #expect(throws: ObjectFileError.self) { try elf.symbol(at: 1_000_000) }
        #expect(try elf.symbol(at: 0).name == "")
    }

    @Test("a system executable: .symtab or, when stripped, .dynsym equals llvm-nm")
    func systemExecutable() throws {
        let path = try #require(["/usr/bin/env", "/bin/ls", "/usr/bin/ls"].first { FileManager.default.fileExists(atPath: $0) })
        let object = try ObjectFile(path: path)
        #expect(object.format == .elf)
        #expect(object.fileType == .executable)
        let stripped = object.usesDynamicSymbols
        let theirs = Comparison.theirs(try LLVMNm.symbols(path, dynamic: stripped))
        let ours = try Comparison.ours(object)
        #expect(theirs.count > 10)
        let difference = multisetDifference(ours, theirs)
        #expect(difference.isEmpty, "\(path): \(difference.joined(separator: "\n"))")
    }

    @Test("sections equal readelf -S; PT_TLS equals readelf -l")
    func sectionsAndTLS() throws {
        let directory = try Tools.temporaryDirectory("tls")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("main.c")
        try """
            __thread long counter = 7;
            __thread char buffer[100];
            int main(void) { buffer[3] = 1; return (int)counter; }
            """.write(to: source, atomically: true, encoding: .utf8)
        let binary = directory.appendingPathComponent("tls").path
        _ = try Tools.runChecked(Tools.clang, [source.path, "-o", binary])
        let object = try ObjectFile(path: binary)
        let elf = try #require(object.elf)
        let tls = try #require(object.tlsSegment)
        #expect(tls.memSize >= 108)
        #expect(tls.fileSize >= 8)
        #expect(tls.alignment >= 8)

        let headers = try Tools.runChecked(Tools.which("readelf") ?? "readelf", ["-l", "-W", binary]).stdout
        let tlsLine = try #require(headers.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("TLS") })
        let fields = tlsLine.split(separator: " ")
        #expect(UInt64(fields[1].dropFirst(2), radix: 16) == elf.programHeaders.first(where: \.isTLS)?.offset)
        #expect(UInt64(fields[2].dropFirst(2), radix: 16) == tls.address)
        #expect(UInt64(fields[4].dropFirst(2), radix: 16) == tls.fileSize)
        #expect(UInt64(fields[5].dropFirst(2), radix: 16) == tls.memSize)
        #expect(UInt64(fields[fields.count - 1].dropFirst(2), radix: 16) == tls.alignment)

        let sectionText = try Tools.runChecked(Tools.which("readelf") ?? "readelf", ["-S", "-W", binary]).stdout
        var checked = 0
        for line in sectionText.split(separator: "\n") {
            guard let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]"),
                  let index = Int(line[line.index(after: open)..<close].trimmingCharacters(in: .whitespaces)) else { continue }
            let fields = line[line.index(after: close)...].split(separator: " ")
            guard fields.count >= 5, index > 0 else { continue }
            let section = object.sections[index]
            #expect(section.name == String(fields[0]))
            #expect(section.address == UInt64(fields[2], radix: 16))
            #expect(section.fileOffset == UInt64(fields[3], radix: 16))
            #expect(section.size == UInt64(fields[4], radix: 16))
            checked += 1
        }
        #expect(checked == object.sections.count - 1)
        #expect(object.sections.contains { $0.name == ".tbss" && $0.flags.contains(.zeroFill) && $0.flags.contains(.threadLocal) })
    }

    @Test("an error names the file, the offset and the expectation")
    func errorMessage() throws {
        let directory = try Tools.temporaryDirectory("err")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Tools.compileC(sampleCSource, flags: ["--target=x86_64-linux-gnu"], in: directory, name: "sample")
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        let truncated = directory.appendingPathComponent("short.o")
        let elf = try #require(try ObjectFile(path: path).elf)
        // Cut inside the section header table (it is at the end of clang's objects).
        let shoff = full.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 40, as: UInt64.self) }
        try full.prefix(Int(shoff) + 12).write(to: truncated)
        let error = try #require(throws: ObjectFileError.self) { try ObjectFile(path: truncated.path) }
        #expect(error.code == .truncated)
        #expect(error.offset == shoff)
        #expect(error.description == "\(truncated.path): truncated section header table at offset 0x\(String(shoff, radix: 16)): expected \(elf.sections.count * 64) bytes, 12 available")

        let missing = try #require(throws: ObjectFileError.self) { try ObjectFile(path: directory.appendingPathComponent("nope").path) }
        #expect(missing.code == .cannotOpen)
        let directoryError = try #require(throws: ObjectFileError.self) { try ObjectFile(path: directory.path) }
        #expect(directoryError.code == .cannotOpen)
        let text = directory.appendingPathComponent("text")
        try "hello world".write(to: text, atomically: true, encoding: .utf8)
        let unknown = try #require(throws: ObjectFileError.self) { try ObjectFile(path: text.path) }
        #expect(unknown.code == .unknownFormat)
        #expect(unknown.description.contains("68 65 6c 6c"))
    }

    @Test("a header claiming 2^32 symbols throws instead of allocating")
    func hugeCountsAreBounded() throws {
        let directory = try Tools.temporaryDirectory("huge")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Tools.compileC(sampleCSource, flags: ["--target=x86_64-linux-gnu"], in: directory, name: "sample")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let elf = try #require(try ObjectFile(path: path).elf)
        let symtab = try #require(elf.symbolTableSection)
        let shoff = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 40, as: UInt64.self) })
        // sh_size of .symtab := 24 * 2^32
        let sizeField = shoff + symtab.index * 64 + 32
        withUnsafeBytes(of: (UInt64(24) << 32).littleEndian) { for i in 0..<8 { bytes[sizeField + i] = $0[i] } }
        let object = try ObjectFile(file: MappedFile(bytes: bytes, name: "huge.o"))
        #expect(object.symbolCountEstimate <= bytes.count / 24)  // bounded by the file, not the header
        let error = try #require(throws: ObjectFileError.self) { _ = try object.symbols }
        #expect(error.code == .truncated)
        #expect(error.description.hasPrefix("huge.o: truncated symbol table .symtab at offset"))
    }

    @Test("more than 0xff00 sections: extended numbering and SHT_SYMTAB_SHNDX")
    func extendedSectionNumbering() throws {
        let directory = try Tools.temporaryDirectory("many")
        defer { try? FileManager.default.removeItem(at: directory) }
        let count = 66_000
        var assembly = ""
        assembly.reserveCapacity(count * 90)
        for index in 0..<count {
            assembly += ".section .text.f\(index),\"ax\",@progbits\n.globl f\(index)\n.type f\(index),@function\nf\(index):\n ret\n.size f\(index), 1\n"
        }
        let source = directory.appendingPathComponent("many.s")
        try assembly.write(to: source, atomically: true, encoding: .utf8)
        let path = directory.appendingPathComponent("many.o").path
        _ = try Tools.runChecked(Tools.clang, ["-c", "--target=x86_64-linux-gnu", source.path, "-o", path])
        let object = try ObjectFile(path: path)
        let elf = try #require(object.elf)
        #expect(elf.sections.count > 0xff00)
        #expect(elf.sections.contains { $0.type == 18 })  // SHT_SYMTAB_SHNDX
        let symbols = try object.symbols
        let last = try #require(symbols.first { $0.name == "f\(count - 1)" })
        #expect(object.sections[try #require(last.sectionIndex)].name == ".text.f\(count - 1)")
        let difference = multisetDifference(try Comparison.ours(object), Comparison.theirs(try LLVMNm.symbols(path)))
        #expect(difference.isEmpty, "\(difference.joined(separator: "\n"))")
    }

    @Test("STT_GNU_IFUNC and STT_COMMON kinds")
    func ifuncAndCommonKinds() throws {
        let directory = try Tools.temporaryDirectory("ifunc")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = """
            static int impl(void) { return 1; }
            static void *resolve(void) { return (void *)impl; }
            int chosen(void) __attribute__((ifunc("resolve")));
            int shared_block;
            int use(void) { return chosen() + shared_block; }
            """
        let path = try Tools.compileC(source, flags: ["--target=x86_64-linux-gnu"], in: directory, name: "ifunc")
        let object = try ObjectFile(path: path)
        let chosen = try #require(try object.symbols.first { $0.name == "chosen" })
        #expect(chosen.kind == .ifunc)
        let nm = try LLVMNm.symbols(path)
        #expect(nm.first { $0.name == "chosen" }?.type == "i")

        // Rewrite the common symbol's type to STT_COMMON (what `as --elf-stt-common=yes` emits).
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let elf = try #require(object.elf)
        let symtab = try #require(elf.symbolTableSection)
        let block = try #require(try object.symbols.first { $0.name == "shared_block" })
        #expect(block.kind == .common && block.flags.contains(.common) && block.isDefined)
        let info = Int(symtab.offset) + block.index * 24 + 4
        bytes[info] = (bytes[info] & 0xf0) | 5
        let patched = try ObjectFile(file: MappedFile(bytes: bytes, name: "stt-common.o"))
        let patchedBlock = try #require(try patched.symbols.first { $0.name == "shared_block" })
        #expect(patchedBlock.kind == .common && patchedBlock.flags.contains(.common))
    }
}
