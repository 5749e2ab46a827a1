import Foundation
import Hotpatch
import ObjectFile
import Testing

/// SymbolTable against llvm-nm on binaries made here, plus lookup and display behaviour.
@Suite(.serialized)
struct SymbolTableTests {
    @Test("a rustc-built std-only binary: defined and undefined sets equal llvm-nm -P -S")
    func rustBinaryMatchesLLVMNm() throws {
        let directory = try Tools.temporaryDirectory("rust-bin")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = try RustProgram.build(counterLikeRustSource, name: "counter", in: directory)
        let table = try SymbolTable.make(contentsOf: binary)

        let (differences, compared) = try differencesFromLLVMNm(table, path: binary)
        #expect(compared > 500)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")

        #expect(table.format == .elf)
        #expect(table.architecture == "x86_64")
        #expect(table.fileType == .executable)
        #expect(!table.fromDynamicSymbols)
        let main = try #require(table["main"])
        #expect(main.defined && main.kind == .function && main.binding == .global)
        #expect(main.section == ".text")
        #expect(table.lookup("main") == main)
        #expect(table.undefined.contains { $0.name.hasPrefix("write") || $0.name.hasPrefix("memcpy") })
        #expect(table.defined.count + table.undefined.count == table.count)
        #expect(table.definedCount == table.defined.count)
        #expect(table.contains { $0.kind == .tls && $0.defined })

        // The hash-suffixed Rust symbol of `step` demangles to `counter::step`.
        let step = try #require(table.first { $0.name.hasPrefix("_ZN7counter4step17h") })
        #expect(step.demangledName == "counter::step")
        #expect(step.kind == .function && step.binding == .local && step.size > 0)

        // PT_TLS as readelf reports it.
        let tls = try #require(table.tlsSegment)
        let headers = try Tools.runChecked(Tools.which("readelf") ?? "readelf", ["-l", "-W", binary]).stdout
        let line = try #require(headers.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("TLS") })
        let fields = line.split(separator: " ")
        #expect(UInt64(fields[5].dropFirst(2), radix: 16) == tls.memSize)
        #expect(UInt64(fields[fields.count - 1].dropFirst(2), radix: 16) == tls.alignment)
    }

    @Test("librustc_driver (165k symbols): sets equal llvm-nm -P -S")
    func rustcDriverMatchesLLVMNm() throws {
        let driver = try #require(try RustProgram.rustcDriver(), "rustc's librustc_driver-*.so not found")
        let table = try SymbolTable.make(contentsOf: driver)
        #expect(table.fileType == .sharedLibrary)
        #expect(table.count > 100_000)
        let (differences, compared) = try differencesFromLLVMNm(table, path: driver)
        #expect(compared > 100_000)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")

        // Every entry is found by its own name, and the best entry is defined when any is.
        var sampled = 0
        for index in stride(from: 0, to: table.count, by: 97) {
            let name = table.name(at: index)
            let all = table.allIndices(named: name)
            #expect(all.contains(index), "\(name)")
            let best = try #require(table.index(named: name))
            if all.contains(where: { table.isDefined(at: $0) }) { #expect(table.isDefined(at: best)) }
            sampled += 1
        }
        #expect(sampled > 1000)
        #expect(table.allIndices(named: ".L.str").count > 1)
        #expect(table["no such symbol, surely"] == nil)
    }

    @Test("a stripped binary falls back to .dynsym, like llvm-nm -D")
    func strippedBinaryUsesDynsym() throws {
        let directory = try Tools.temporaryDirectory("stripped")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = try RustProgram.build(counterLikeRustSource, name: "stripped", in: directory, flags: ["-C", "strip=symbols"])
        let table = try SymbolTable.make(contentsOf: binary)
        #expect(table.fromDynamicSymbols)
        let (differences, compared) = try differencesFromLLVMNm(table, path: binary)
        #expect(compared > 5)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }

    @Test("Mach-O objects: the table equals llvm-nm; kinds come from sections", arguments: ["arm64", "x86_64"])
    func machOTable(architecture: String) throws {
        let directory = try Tools.temporaryDirectory("macho-table")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("m.c")
        try """
            __thread int tls_counter = 1;
            int global_data = 7;
            int work(int x) { return x + global_data + tls_counter; }
            """.write(to: source, atomically: true, encoding: .utf8)
        let object = directory.appendingPathComponent("m.o").path
        _ = try Tools.runChecked(Tools.clang, ["-c", "--target=\(architecture)-apple-macos13", source.path, "-o", object])
        let table = try SymbolTable.make(contentsOf: object)
        #expect(table.format == .machO && table.architecture == architecture)
        let (differences, compared) = try differencesFromLLVMNm(table, path: object)
        #expect(compared >= 3)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        #expect(table["_work"]?.kind == .function)
        #expect(table["_work"]?.section == "__TEXT,__text")
        #expect(table["_global_data"]?.kind == .data)
        #expect(table["_tls_counter"]?.kind == .tls)
        #expect(table.tlsSegment == nil)
    }

    @Test("a repeated name resolves to the defined global; allIndices lists every copy")
    func duplicateNames() throws {
        let directory = try Tools.temporaryDirectory("dup")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("a.c")
        let second = directory.appendingPathComponent("b.c")
        try "static int shared(void) { return 1; } int use_a(void) { return shared(); }"
            .write(to: first, atomically: true, encoding: .utf8)
        try "int shared(void) { return 2; } static int other(void) { return 3; } int main(void) { return shared() + other(); }"
            .write(to: second, atomically: true, encoding: .utf8)
        let binary = directory.appendingPathComponent("dup").path
        _ = try Tools.runChecked(Tools.clang, ["-O0", first.path, second.path, "-o", binary])
        let table = try SymbolTable.make(contentsOf: binary)
        let all = table.allIndices(named: "shared")
        #expect(all.count == 2)
        let best = try #require(table["shared"])
        #expect(best.binding == .global && best.defined)
        #expect(Set(all.map { table.binding(at: $0) }) == [.global, .local])
        #expect(table["other"]?.binding == .local)
    }

    /// std prints a frame's symbol name when it has no line information for it (the program
    /// is built without debug info); frames with an `at file:line` line may be inlined functions
    /// that have no symbol at all, so only the former are compared, plus std's
    /// `lang_start_internal`, a real v0-mangled symbol.
    @Test("demangled names match what std's backtrace prints")
    func demangledNamesMatchStdBacktrace() throws {
        let directory = try Tools.temporaryDirectory("bt")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = try RustProgram.build(counterLikeRustSource, name: "bt", in: directory)
        let output = try Tools.runChecked(binary, ["--backtrace"]).stdout
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        // Frame lines look like "3: std::rt::lang_start_internal"; location lines start with "at ".
        var symbolFrames: [String] = []
        var allFrames: [String] = []
        for (index, line) in lines.enumerated() {
            guard let colon = line.firstIndex(of: ":"), Int(line[..<colon]) != nil else { continue }
            let frame = String(line[line.index(colon, offsetBy: 2)...])
            allFrames.append(frame)
            let hasLocation = index + 1 < lines.count && lines[index + 1].hasPrefix("at ")
            if !hasLocation, !frame.hasPrefix("__libc") { symbolFrames.append(frame) }
        }
        #expect(symbolFrames.count >= 4, "\(output)")
        #expect(symbolFrames.contains("bt::main"))
        let table = try SymbolTable.make(contentsOf: binary)
        let demangled = Set(table.map(\.demangledName))
        let missing = symbolFrames.filter { !demangled.contains($0) }
        #expect(missing.isEmpty, "no symbol demangles to: \(missing)")
        if allFrames.contains("std::rt::lang_start_internal") {
            #expect(demangled.contains("std::rt::lang_start_internal"))
        }
    }

    @Test("v0 names (std's mangling) demangle exactly as llvm-cxxfilt prints them")
    func v0MatchesLLVMCxxfilt() throws {
        let cxxfilt = try #require(Tools.which("llvm-cxxfilt"), "llvm-cxxfilt not installed")
        let directory = try Tools.temporaryDirectory("v0")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = """
            use std::collections::HashMap;
            fn main() {
                let mut m: HashMap<String, Vec<(u8, char)>> = HashMap::new();
                m.insert("a".into(), vec![(1, 'x')]);
                let f: Box<dyn Fn(&str) -> usize + Send> = Box::new(|s| s.len());
                let arrays: [[u16; 3]; 2] = [[1, 2, 3], [4, 5, 6]];
                println!("{:?} {} {:?}", m, f("abc"), arrays);
            }
            """
        let binary = try RustProgram.build(source, name: "v0", in: directory, flags: ["-C", "symbol-mangling-version=v0"])
        let table = try SymbolTable.make(contentsOf: binary)
        let names = Array(Set(table.map(\.name).filter { $0.hasPrefix("_R") })).sorted()
        #expect(names.count > 300)
        var mismatches: [String] = []
        for batch in stride(from: 0, to: names.count, by: 200) {
            let slice = Array(names[batch..<min(batch + 200, names.count)])
            let expected = try Tools.runChecked(cxxfilt, slice).stdout.split(separator: "\n", omittingEmptySubsequences: false)
            for (name, reference) in zip(slice, expected) where RustDemangler.demangle(name) != String(reference) {
                mismatches.append("\(name)\n  ours: \(RustDemangler.demangle(name) ?? "nil")\n  llvm: \(reference)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(names.count) differ:\n\(mismatches.prefix(5).joined(separator: "\n"))")
        #expect(table.contains { $0.demangledName.hasPrefix("v0::main") })
    }

    @Test("legacy Rust demangling (cases from rustc-demangle's test suite)", arguments: [
        ("_ZN4testE", "test"),
        ("_ZN4test1a2bcE", "test::a::bc"),
        ("_ZN4$RP$E", ")"),
        ("_ZN8$RF$testE", "&test"),
        ("_ZN8$BP$test4foobE", "*test::foob"),
        ("_ZN9$u20$test4foobE", " test::foob"),
        ("_ZN35Bar$LT$$u5b$u32$u3b$$u20$4$u5d$$GT$E", "Bar<[u32; 4]>"),
        ("_ZN13test$u20$test4foobE", "test test::foob"),
        ("_ZN12test$BP$test4foobE", "test*test::foob"),
        ("_ZN3foo17h05af221e174051e9E", "foo"),
        ("_ZN3foo20h05af221e174051e9abcE", "foo::h05af221e174051e9abc"),
        ("_ZN9backtrace3foo17hbb467fcdaea5d79bE.llvm.A5310EB9", "backtrace::foo"),
        ("_ZN68_$LT$core..nonzero..NonZero$LT$T$GT$$u20$as$u20$core..ops..Deref$GT$5deref17h0f90b8d2d6f7acdaE",
         "<core::nonzero::NonZero<T> as core::ops::Deref>::deref"),
        ("__ZN4core3fmt5write17h0123456789abcdefE", "core::fmt::write"),
    ])
    func demangle(mangled: String, expected: String) {
        #expect(RustDemangler.demangle(mangled) == expected)
    }

    @Test("v0 demangling of hand-written names", arguments: [
        ("_RNvC7mycrate4main", "mycrate::main"),
        ("_RNvCs1234_7mycrate4main.llvm.123", "mycrate::main"),
        ("_RNCNvC7mycrate4main0B3_", "mycrate::main::{closure#0}"),
        ("_RINvC7mycrate4workTlhEE", "mycrate::work::<(i32, u8)>"),
        ("_RINvC7mycrate4workAtj3_E", "mycrate::work::<[u16; 3]>"),
        ("_RINvC1a1bB2_E", "a::b::<a>"),
        ("_RINvC7mycrate4workKb1_E", "mycrate::work::<true>"),
        ("_RINvC7mycrate4workKanff_E", "mycrate::work::<-255>"),
        ("_RINvC7mycrate4workFUKCRhEmE", "mycrate::work::<unsafe extern \"C\" fn(&u8) -> u32>"),
        ("_RNvMC7mycrateNtB2_3Foo3new", "<mycrate::Foo>::new"),
    ])
    func demangleV0(mangled: String, expected: String) {
        #expect(RustDemangler.demangle(mangled) == expected)
    }

    @Test("names that are not Rust paths stay as they are", arguments: [
        "main", "_ZN", "_ZN3fooE_", "_ZN99fooE", "_R_NvC7mycrate4main", "_ZN0E", "", "_ZNE", "_R", "_RB_",
        "_RNvC7mycrate4mai", "_RB0_", "_RNvB0_4main", "_RINvC1a1bB9_E",
    ])
    func notDemangled(name: String) {
        #expect(RustDemangler.demangle(name) == nil)
    }
}
