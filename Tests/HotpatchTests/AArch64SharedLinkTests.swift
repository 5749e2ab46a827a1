import Foundation
import Testing

@testable import Hotpatch

/// The aarch64 shared link on a real rustc 1.63 executable (Debian's, the one with an aarch64
/// std): the edited crate, compiled with the large code model and made slide-independent, links
/// into a library with no text relocation and no writable code (what Android's loader accepts),
/// and under QEMU the executable dlopens it and the new code continues the executable's statics
/// and thread-locals, and a panic in it unwinds into the executable's `catch_unwind`.
@Suite(.serialized, .enabled(if: AArch64Tools.available, "needs /usr/bin/rustc with an aarch64 std, aarch64-linux-gnu-gcc, qemu-aarch64 and ld.lld"))
struct AArch64SharedLinkTests {
    static let triple = "aarch64-unknown-linux-gnu"

    /// Rust 1.63: no C string literals, `OnceLock` or stable `black_box`.
    static let source = """
        use std::cell::Cell;
        use std::os::raw::{c_char, c_void};
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Mutex;

        static CALLS: AtomicU64 = AtomicU64::new(0);
        static mut RAW: u64 = 0;
        static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
        thread_local! {
            static LAZY: Cell<u64> = Cell::new(std::env::args().count() as u64 - 4);
            static CONST: Cell<u64> = const { Cell::new(0) };
        }

        #[link(name = "dl")]
        extern "C" {
            fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
            fn dlopen(path: *const c_char, flags: i32) -> *mut c_void;
            fn dlerror() -> *const c_char;
            fn dlinfo(handle: *mut c_void, request: i32, info: *mut *const usize) -> i32;
        }

        #[inline(never)]
        fn scale(n: u64) -> u64 { n * 100 }

        #[inline(never)]
        fn tick(n: u64) -> String {
            let calls = CALLS.fetch_add(1, Ordering::SeqCst) + 1;
            let raw = unsafe { RAW += 10; RAW };
            LOG.lock().unwrap().push(format!("t{}", n));
            let log = LOG.lock().unwrap().len();
            let lazy = LAZY.with(|c| { c.set(c.get() + 1); c.get() });
            let constant = CONST.with(|c| { c.set(c.get() + 1); c.get() });
            format!("OLD tick {} calls {} raw {} log {} lazy {} const {} scaled {}", n, calls, raw, log, lazy, constant, scale(n))
        }

        #[inline(never)]
        fn boom(n: u64) -> u64 {
            if n > 100 { panic!("OLD boom {}", n) }
            n
        }

        fn address(text: &str) -> usize {
            usize::from_str_radix(text.trim().trim_start_matches("0x"), 16).unwrap()
        }

        fn main() {
            std::panic::set_hook(Box::new(|_| {}));
            let args: Vec<String> = std::env::args().collect();
            println!("aslr {:p}", unsafe { dlsym(std::ptr::null_mut(), b"main\\0".as_ptr() as *const c_char) });
            println!("{}", tick(1));
            println!("boom {}", boom(args.len() as u64 - 2));
            let path = std::ffi::CString::new(args[1].clone()).unwrap();
            let handle = unsafe { dlopen(path.as_ptr(), 2) };
            if handle.is_null() {
                println!("dlopen failed: {:?}", unsafe { std::ffi::CStr::from_ptr(dlerror()) });
                std::process::exit(3);
            }
            let mut map: *const usize = std::ptr::null();
            unsafe { dlinfo(handle, 2, &mut map) };
            let base = unsafe { *map };
            println!("base {:#x}", base);
            let new_tick: fn(u64) -> String = unsafe { std::mem::transmute(base + address(&args[2])) };
            let new_boom: fn(u64) -> u64 = unsafe { std::mem::transmute(base + address(&args[3])) };
            println!("{}", new_tick(2));
            println!("{}", tick(3));
            match std::panic::catch_unwind(|| new_boom(1000)) {
                Ok(value) => println!("no panic {}", value),
                Err(payload) => println!("caught {}", payload.downcast_ref::<String>().cloned().unwrap_or_default()),
            }
            println!("{}", new_tick(4));
        }
        """

    /// The fat executable, the relocated objects and the library linked from them.
    struct Linked {
        var directory: String
        var executable: String
        var library: String
        var relocated: RelocatedObjects
        var fat: SymbolTable
    }

    /// Builds the executable (PIE, exported symbols, through a recording cross linker), compiles
    /// the edited crate the way a shared patch does, relocates it and links it the patcher's way.
    static func buildAndLink() throws -> Linked {
        let directory = try LinkTestTools.makeScratchDirectory("a64-shared")
        let common = ["--edition", "2021", "--crate-name", "app", "--crate-type", "bin", "-C", "metadata=1234abcd", "--target", triple]
        let captured = try LinkTestTools.buildRecordingLink(
            rustc: AArch64Tools.rustc, arguments: common, source: source, in: directory, linker: "aarch64-linux-gnu-gcc")
        try source.replacingOccurrences(of: "OLD", with: "NEW").write(toFile: "\(directory)/edited.rs", atomically: true, encoding: .utf8)
        try LinkTestTools.runChecked(
            AArch64Tools.rustc, common + ["--emit=obj", "-C", "codegen-units=1"] + StaticsRelocation.largeCodeModel
                + ["\(directory)/edited.rs", "-o", "\(directory)/app.o"])
        let fat = try SymbolTable.make(contentsOf: "\(directory)/app")
        let relocated = try RelocatedObjects.make(objects: ["\(directory)/app.o"], executable: fat, directory: URL(fileURLWithPath: directory))
        let library = "\(directory)/libwhisker-patch-1-a64.so"
        let plan = try LinkPlan.make(
            os: .linux, linker: "aarch64-linux-gnu-gcc", capturedArguments: captured, objects: relocated.objects,
            stubObject: nil, outputPath: library
        ).addingSharedLibraryFlags(target: triple)
        #expect(plan.arguments.contains("-Wl,-z,text"))
        #expect(!plan.arguments.contains("-Wl,-z,notext"))
        try LinkOutcome.run(plan)
        return Linked(directory: directory, executable: "\(directory)/app", library: library, relocated: relocated, fat: fat)
    }

    @Test func theLibraryHasNoTextRelocationsAndNoWritableCode() throws {
        let linked = try Self.buildAndLink()
        defer { try? FileManager.default.removeItem(atPath: linked.directory) }
        let summary = linked.relocated.summary
        #expect(summary.statics.contains { $0.contains("5CALLS") }, "\(summary) \(linked.directory)")
        #expect(summary.statics.contains { $0.contains("3RAW") })
        #expect(summary.statics.contains { $0.contains("3LOG") })
        #expect(!summary.threadLocals.isEmpty)
        #expect(summary.unwindPointers > 0)
        #expect(summary.newStatics.isEmpty)
        #expect(linked.relocated.trampolines > 0)

        let header = try ReadelfView.header(linked.library)
        #expect(header.type.hasPrefix("DYN"))
        #expect(header.machine == "AArch64")
        let dynamic = try ReadelfView.dynamic(linked.library)
        #expect(!dynamic.tags.contains("TEXTREL"), "\(dynamic.tags)")
        #expect(!dynamic.flags.contains("TEXTREL"), "\(dynamic.flags)")
        let loads = try ReadelfView.loadSegments(linked.library)
        #expect(!loads.isEmpty)
        #expect(!loads.contains { $0.contains("W") && $0.contains("E") }, "\(loads)")
        // The MOVZ/MOVK relocations are gone: nothing absolute is left in the code.
        let relocations = try LinkTestTools.runChecked("readelf", ["-rW", linked.relocated.objects[0]]).stdout
        #expect(!relocations.contains("MOVW_UABS"))
        #expect(!relocations.contains("TLSLE"))
        let library = try SymbolTable.make(contentsOf: linked.library)
        #expect(library.definitions(named: "main").isEmpty, "the patch's own main must be renamed so `main` means the executable's")
    }

    @Test func theExecutableRunsTheNewCodeOnItsOwnStatics() throws {
        let linked = try Self.buildAndLink()
        defer { try? FileManager.default.removeItem(atPath: linked.directory) }
        let library = try SymbolTable.make(contentsOf: linked.library)
        let tick = try #require(linked.fat.defined.first { $0.name.hasPrefix("_ZN3app4tick17h") })
        let boom = try #require(linked.fat.defined.first { $0.name.hasPrefix("_ZN3app4boom17h") })
        let newTick = try #require(library.defined.first { $0.name == tick.name })
        let newBoom = try #require(library.defined.first { $0.name == boom.name })
        let digest = try HotpatchModuleCache.sha256(ofFileAt: linked.library)
        let output = try AArch64Tools.run(
            linked.executable, [linked.library, HexAddress.format(newTick.address), HexAddress.format(newBoom.address)])
        let lines = output.stdout.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("aslr ") && !$0.hasPrefix("base ") }
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(lines == [
            "OLD tick 1 calls 1 raw 10 log 1 lazy 1 const 1 scaled 100",
            "boom 2",
            // New code on the executable's storage: every counter continues.
            "NEW tick 2 calls 2 raw 20 log 2 lazy 2 const 2 scaled 200",
            "OLD tick 3 calls 3 raw 30 log 3 lazy 3 const 3 scaled 300",
            "caught NEW boom 1000",
            "NEW tick 4 calls 4 raw 40 log 4 lazy 4 const 4 scaled 400",
        ], "\(output.stdout)\(output.stderr)")
        #expect(try HotpatchModuleCache.sha256(ofFileAt: linked.library) == digest, "loading must not modify the library")
    }

    /// Flipped bytes anywhere in the real large-model aarch64 object: the rewrite either succeeds
    /// or throws a `RelocateError`; it never traps on a bad offset, count, index or instruction.
    @Test func corruptedObjectsNeverCrashTheRewrite() throws {
        let directory = try LinkTestTools.makeScratchDirectory("a64-fuzz")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let common = ["--edition", "2021", "--crate-name", "app", "--crate-type", "bin", "-C", "metadata=1234abcd", "--target", Self.triple]
        _ = try LinkTestTools.buildRecordingLink(
            rustc: AArch64Tools.rustc, arguments: common, source: Self.source, in: directory, linker: "aarch64-linux-gnu-gcc")
        try LinkTestTools.runChecked(
            AArch64Tools.rustc, common + ["--emit=obj", "-C", "codegen-units=1"] + StaticsRelocation.largeCodeModel
                + ["\(directory)/app.rs", "-o", "\(directory)/app.o"])
        let fat = try SymbolTable.make(contentsOf: "\(directory)/app")
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/app.o")))
        let (succeeded, refused) = try RelocateFuzzing.flipBytes(of: original, seed: 0xa64_5eed, executable: fat, directory: directory)
        #expect(succeeded + refused == 200)
        #expect(refused > 0, "no flip was ever refused: the checks may not run")
    }
}

/// The aarch64 tools the suites need, and how to run an aarch64 program here.
enum AArch64Tools {
    /// Debian's rustc 1.63, which has `libstd-rust-dev:arm64` (rustup's has no aarch64 std).
    static let rustc = "/usr/bin/rustc"

    static let available: Bool = {
        guard FileManager.default.isExecutableFile(atPath: rustc),
              ["aarch64-linux-gnu-gcc", "qemu-aarch64", "ld.lld", "readelf"].allSatisfy({ LinkTestTools.which($0) != nil }),
              let sysroot = try? LinkTestTools.run(rustc, ["--print", "sysroot"]), sysroot.status == 0
        else { return false }
        let std = sysroot.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/lib/rustlib/aarch64-unknown-linux-gnu/lib"
        return FileManager.default.fileExists(atPath: std)
    }()

    /// Runs an aarch64 program under QEMU with the cross libc (its own libraries first: the
    /// host's newer libc6:arm64 hangs the first `pthread_create`), stopped after 60 s.
    static func run(_ program: String, _ arguments: [String]) throws -> LinkTestTools.Output {
        try LinkTestTools.run("timeout", [
            "60", "qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", "-E", "LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib", program,
        ] + arguments)
    }
}

/// `readelf`'s answers about a linked file, parsed.
enum ReadelfView {
    /// `readelf -hW`: the file type and machine.
    static func header(_ path: String) throws -> (type: String, machine: String) {
        let text = try LinkTestTools.runChecked("readelf", ["-hW", path]).stdout
        func field(_ name: String) -> String {
            text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + ":") }
                .map { String($0.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces) } ?? ""
        }
        return (field("Type"), field("Machine"))
    }

    /// `readelf -dW`: every dynamic tag name (`TEXTREL`, `FLAGS`, …) and the words of the
    /// `FLAGS`/`FLAGS_1` entries.
    static func dynamic(_ path: String) throws -> (tags: [String], flags: [String]) {
        let text = try LinkTestTools.runChecked("readelf", ["-dW", path]).stdout
        var tags: [String] = [], flags: [String] = []
        for line in text.split(separator: "\n") {
            guard let open = line.firstIndex(of: "("), let close = line.firstIndex(of: ")"), open < close else { continue }
            let tag = String(line[line.index(after: open)..<close])
            tags.append(tag)
            if tag == "FLAGS" || tag == "FLAGS_1" {
                flags += line[line.index(after: close)...].split(separator: " ").map(String.init).filter { $0 != "Flags:" }
            }
        }
        return (tags, flags)
    }

    /// `readelf -lW`: the flags column (`R E`, `RW`, …) of every `LOAD` segment.
    static func loadSegments(_ path: String) throws -> [String] {
        let text = try LinkTestTools.runChecked("readelf", ["-lW", path]).stdout
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.first == "LOAD", fields.count >= 8 else { return nil }
            // Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg… Align: the flags sit between
            // the sizes and the alignment.
            return fields[6..<(fields.count - 1)].joined(separator: " ")
        }
    }
}
