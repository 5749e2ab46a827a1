import Foundation
import Testing

@testable import Hotpatch
import ObjectFile

/// The shared link on a real rustc executable: the edited crate, compiled with the large code
/// model and made slide-independent, links ONCE; two processes of the build (different ASLR
/// slides) load that same file; the patched code uses the executable's statics — an atomic, a
/// `static mut`, a `Mutex<Vec>`, a `OnceLock`, a lazy and a const `thread_local!` all continue —
/// and a panic in patched code unwinds into the executable's `catch_unwind`.
@Suite(.serialized) struct SharedLibraryRustPatchTests {
    private static let source = """
        use std::cell::Cell;
        use std::io::BufRead;
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::{Mutex, OnceLock};

        static CALLS: AtomicU64 = AtomicU64::new(0);
        static mut RAW: u64 = 0;
        static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
        static NAME: OnceLock<String> = OnceLock::new();
        thread_local! {
            static LAZY: Cell<u64> = Cell::new(std::env::args().count() as u64 - 1);
            static CONST: Cell<u64> = const { Cell::new(0) };
        }

        extern "C" {
            fn dlsym(handle: *mut std::ffi::c_void, name: *const std::ffi::c_char) -> *mut std::ffi::c_void;
            fn dlopen(path: *const std::ffi::c_char, flags: i32) -> *mut std::ffi::c_void;
            fn dlerror() -> *const std::ffi::c_char;
            fn dlinfo(handle: *mut std::ffi::c_void, request: i32, info: *mut *const usize) -> i32;
        }

        #[inline(never)]
        fn tick(n: u64) -> String {
            let calls = CALLS.fetch_add(1, Ordering::SeqCst) + 1;
            let raw = unsafe { RAW += 10; RAW };
            LOG.lock().unwrap().push(format!("t{n}"));
            let log = LOG.lock().unwrap().len();
            let lazy = LAZY.with(|c| { c.set(c.get() + 1); c.get() });
            let constant = CONST.with(|c| { c.set(c.get() + 1); c.get() });
            let name = NAME.get_or_init(|| format!("set by OLD")).clone();
            format!("OLD tick {n} calls {calls} raw {raw} log {log} lazy {lazy} const {constant} name {name}")
        }

        #[inline(never)]
        fn boom(n: u64) -> u64 {
            if n > 100 { panic!("OLD boom {n}") }
            n
        }

        fn address(line: String) -> usize {
            usize::from_str_radix(line.trim().trim_start_matches("0x"), 16).unwrap()
        }

        fn main() {
            std::panic::set_hook(Box::new(|_| {}));
            println!("aslr {:p}", unsafe { dlsym(std::ptr::null_mut(), c"main".as_ptr()) });
            println!("{}", tick(1));
            std::hint::black_box(boom(std::hint::black_box(1)));
            let stdin = std::io::stdin();
            let mut lines = stdin.lock().lines();
            let path = std::ffi::CString::new(lines.next().unwrap().unwrap()).unwrap();
            let handle = unsafe { dlopen(path.as_ptr(), 2) };
            if handle.is_null() {
                println!("dlopen failed: {:?}", unsafe { std::ffi::CStr::from_ptr(dlerror()) });
                std::process::exit(3);
            }
            let mut map: *const usize = std::ptr::null();
            unsafe { dlinfo(handle, 2, &mut map) };
            println!("base {:#x}", unsafe { *map });
            let new_tick: fn(u64) -> String = unsafe { std::mem::transmute(address(lines.next().unwrap().unwrap())) };
            let new_boom: fn(u64) -> u64 = unsafe { std::mem::transmute(address(lines.next().unwrap().unwrap())) };
            println!("{}", new_tick(2));
            println!("{}", tick(3));
            match std::panic::catch_unwind(|| new_boom(1000)) {
                Ok(value) => println!("no panic {value}"),
                Err(payload) => println!("caught {}", payload.downcast_ref::<String>().cloned().unwrap_or_default()),
            }
            println!("{}", new_tick(4));
        }
        """

    @Test func oneLibraryServesTwoProcessesAndTheirStaticsContinue() throws {
        let rustc = try #require(
            LinkTestTools.rustc(),
            "rustc is needed for this test")
        let directory = try LinkTestTools.makeScratchDirectory("shared-patch")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let common = ["--edition", "2021", "--crate-name", "app", "--crate-type", "bin", "-C", "metadata=1234abcd"]

        let capturedArguments = try LinkTestTools.buildRecordingLink(rustc: rustc, arguments: common, source: Self.source, in: directory)

        try Self.source.replacingOccurrences(of: "OLD", with: "NEW")
            .write(toFile: "\(directory)/edited.rs", atomically: true, encoding: .utf8)
        try LinkTestTools.runChecked(
            rustc, common + ["--emit=obj", "-C", "codegen-units=1"] + StaticsRelocation.largeCodeModel
                + ["\(directory)/edited.rs", "-o", "\(directory)/app.o"])

        let fat = try SymbolTable.make(contentsOf: "\(directory)/app")
        let relocated = try RelocatedObjects.make(
            objects: ["\(directory)/app.o"], executable: fat, directory: URL(fileURLWithPath: directory))
        let summary = relocated.summary
        #expect(summary.statics.contains { $0.contains("5CALLS") })
        #expect(summary.statics.contains { $0.contains("3RAW") })
        #expect(summary.statics.contains { $0.contains("3LOG") })
        #expect(summary.statics.contains { $0.contains("4NAME") })
        #expect(!summary.threadLocals.isEmpty)
        #expect(summary.unwindPointers > 0)
        #expect(summary.newStatics.isEmpty)

        let libraryPath = "\(directory)/libwhisker-patch-1-shared.so"
        let plan = try LinkPlan.make(
            os: .linux, linker: "cc", capturedArguments: capturedArguments, objects: relocated.objects,
            stubObject: nil, outputPath: libraryPath
        ).addingSharedLibraryFlags()
        try LinkOutcome.run(plan)
        let library = try SymbolTable.make(contentsOf: libraryPath)
        #expect(library.definitions(named: "main").isEmpty, "the patch's own main must be renamed so `main` means the executable's")
        let digest = try HotpatchModuleCache.sha256(ofFileAt: libraryPath)

        let tick = try #require(fat.defined.first { $0.name.hasPrefix("_ZN3app4tick17h") })
        let boom = try #require(fat.defined.first { $0.name.hasPrefix("_ZN3app4boom17h") })
        let newTick = try #require(library.defined.first { $0.name == tick.name })
        let newBoom = try #require(library.defined.first { $0.name == boom.name })

        var references: Set<String> = []
        for run in 1...2 {
            let process = try StubObjectHostProcess("\(directory)/app")
            references.insert(try process.value(after: "aslr "))
            #expect(try process.readLine() == "OLD tick 1 calls 1 raw 10 log 1 lazy 1 const 1 name set by OLD")
            try process.send(libraryPath)
            let base = try #require(HexAddress.parse(try process.value(after: "base ")))
            try process.send(HexAddress.format(base + newTick.address))
            try process.send(HexAddress.format(base + newBoom.address))
            // New code on the executable's storage: every counter continues and the OnceLock keeps
            // the value the old code set.
            #expect(try process.readLine() == "NEW tick 2 calls 2 raw 20 log 2 lazy 2 const 2 name set by OLD")
            #expect(try process.readLine() == "OLD tick 3 calls 3 raw 30 log 3 lazy 3 const 3 name set by OLD")
            #expect(try process.readLine() == "caught NEW boom 1000")
            #expect(try process.readLine() == "NEW tick 4 calls 4 raw 40 log 4 lazy 4 const 4 name set by OLD")
            #expect(process.waitForExit() == 0, "run \(run): \(process.transcript)")
        }
        #expect(references.count == 2, "ASLR gave both processes the same slide; the test proves less than it says")
        #expect(try HotpatchModuleCache.sha256(ofFileAt: libraryPath) == digest, "loading must not modify the library")
    }

    @Test func aTruncatedObjectIsAClearErrorNotACrash() throws {
        let directory = try LinkTestTools.makeScratchDirectory("shared-truncated")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = "\(directory)/t.c"
        try "int counter; int bump(void) { return ++counter; }\n".write(toFile: source, atomically: true, encoding: .utf8)
        try LinkTestTools.runChecked("/usr/bin/env", ["cc", "-c", "-mcmodel=large", source, "-o", "\(directory)/t.o"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/t.o"))
        let fat = try SymbolTable.make(contentsOf: "/proc/self/exe")
        try RelocateFuzzing.expectEveryPrefixRefused(bytes, parts: 40, executable: fat, directory: directory)
    }

    /// Found by `scripts/fuzz.sh` (fuzz-relocate): a relocated section whose `sh_offset` points
    /// into the ELF header (or the section header table) was accepted, and the rewrite's edits of
    /// its instructions overwrote `e_shoff` — an unreadable object instead of an error.
    @Test(arguments: ["the ELF header", "the section header table"])
    func aSectionOverTheHeadersIsRefused(place: String) throws {
        let directory = try LinkTestTools.makeScratchDirectory("shared-overlap")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = "\(directory)/t.c"
        try "int counter; int bump(void) { return ++counter; }\n".write(toFile: source, atomically: true, encoding: .utf8)
        try LinkTestTools.runChecked("/usr/bin/env", ["cc", "-c", "-mcmodel=large", source, "-o", "\(directory)/t.o"])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/t.o")))
        let fat = try SymbolTable.make(contentsOf: "/proc/self/exe")
        // The untouched object relocates: the damage below is what gets it refused.
        _ = try RelocatedObjects.make(objects: ["\(directory)/t.o"], executable: fat, directory: URL(fileURLWithPath: directory))

        let elf = try ELFFile(file: MappedFile(bytes: bytes, name: "t.o"))
        let text = try #require(elf.sections.first { $0.name == ".text" })
        #expect(!elf.relocationSections(forSection: text.index).isEmpty, "bump's access to counter is relocated")
        let newOffset = place == "the ELF header" ? 0 : elf.sectionHeaderTableOffset
        let field = Int(elf.sectionHeaderTableOffset) + text.index * ELF.Layout.elf64.sectionHeaderSize + 24  // sh_offset
        for index in 0..<8 { bytes[field + index] = UInt8(truncatingIfNeeded: newOffset >> (8 * UInt64(index))) }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/damaged.o"))

        let error = try #require(throws: RelocateError.self) {
            _ = try RelocatedObjects.make(
                objects: ["\(directory)/damaged.o"], executable: fat, directory: URL(fileURLWithPath: directory))
        }
        #expect(error.message.contains("section .text overlaps \(place)"), "\(error.message)")
    }

    /// Found by `scripts/fuzz.sh` (fuzz-relocate): a `.symtab` linked to a string table whose type
    /// says it has no bytes (`SHT_NOBITS`) was rewritten, and the table moved to the end empty —
    /// here it was also the section-name table, so every section lost its name.
    @Test func aSymbolStringTableWithoutBytesIsRefused() throws {
        let directory = try LinkTestTools.makeScratchDirectory("shared-nobits-strtab")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = "\(directory)/t.c"
        try "int counter; int bump(void) { return ++counter; }\n".write(toFile: source, atomically: true, encoding: .utf8)
        try LinkTestTools.runChecked("/usr/bin/env", ["cc", "-c", "-mcmodel=large", source, "-o", "\(directory)/t.o"])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/t.o")))
        let elf = try ELFFile(file: MappedFile(bytes: bytes, name: "t.o"))
        let symtab = try #require(elf.symbolTableSection(.symtab))
        let field = Int(elf.sectionHeaderTableOffset) + Int(symtab.link) * ELF.Layout.elf64.sectionHeaderSize + 4  // sh_type
        for (index, byte) in [UInt8](arrayLiteral: UInt8(ELF.SectionType.nobits), 0, 0, 0).enumerated() { bytes[field + index] = byte }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/damaged.o"))

        let error = try #require(throws: RelocateError.self) {
            _ = try RelocatedObjects.make(
                objects: ["\(directory)/damaged.o"], executable: try SymbolTable.make(contentsOf: "/proc/self/exe"),
                directory: URL(fileURLWithPath: directory))
        }
        #expect(error.message.contains("is not an SHT_STRTAB section"), "\(error.message)")
    }

    /// Flipped bytes anywhere in a real large-model object: the rewrite either succeeds or
    /// throws a `RelocateError`; it never traps on a bad offset, count or index.
    @Test func corruptedObjectsNeverCrashTheRewrite() throws {
        let rustc = try #require(
            LinkTestTools.rustc(),
            "rustc is needed for this test")
        let directory = try LinkTestTools.makeScratchDirectory("shared-fuzz")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let common = ["--edition", "2021", "--crate-name", "app", "--crate-type", "bin", "-C", "metadata=1234abcd"]
        _ = try LinkTestTools.buildRecordingLink(rustc: rustc, arguments: common, source: Self.source, in: directory)
        try LinkTestTools.runChecked(
            rustc, common + ["--emit=obj", "-C", "codegen-units=1"] + StaticsRelocation.largeCodeModel + ["\(directory)/app.rs", "-o", "\(directory)/app.o"])
        let fat = try SymbolTable.make(contentsOf: "\(directory)/app")
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/app.o")))
        let (succeeded, refused) = try RelocateFuzzing.flipBytes(of: original, seed: 0x5eed_1234, executable: fat, directory: directory)
        #expect(succeeded + refused == 200)
        #expect(refused > 0, "no flip was ever refused: the checks may not run")
    }
}
