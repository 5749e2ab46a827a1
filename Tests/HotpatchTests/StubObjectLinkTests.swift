import Foundation
import Hotpatch
import Testing

/// The stub, the link plan and the jump table against a real running process: a PIE host (built
/// by clang, so ASLR slides it) prints where it runs; a patch object that calls the host's
/// function, reads and writes the host's data and reads its thread-local is linked with a stub
/// for that process's slide; the host `dlopen`s the library and runs it, then calls the new code
/// through the jump table's address.
@Suite(.serialized) struct StubObjectLinkTests {
    private static let hostSource = """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <link.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>

        long ext_data = 1234;
        __thread long ext_tls = 7;
        int host_calls = 0;

        __attribute__((noinline)) long ext_fn(long x) { host_calls++; printf("host ext_fn(%ld)\\n", x); return x * 2; }
        __attribute__((noinline)) long compute(long x) { return x + 1; }

        static int next_line(char *buffer, size_t size) {
            fflush(stdout);
            if (!fgets(buffer, (int)size, stdin)) return 0;
            buffer[strcspn(buffer, "\\n")] = 0;
            return 1;
        }

        int main(void) {
            char line[4096];
            printf("aslr %p\\ncompute %p\\n", (void *)&main, (void *)&compute);
            ext_data += 1;  /* state the patch must see: 1235, not the initial value */
            ext_tls = 9;
            if (!next_line(line, sizeof line)) return 2;
            void *lib = dlopen(line, RTLD_NOW | RTLD_LOCAL);
            if (!lib) { printf("dlopen failed: %s\\n", dlerror()); return 3; }
            struct link_map *map = NULL;
            dlinfo(lib, RTLD_DI_LINKMAP, &map);
            printf("base %p\\n", (void *)map->l_addr);
            long (*entry)(long) = (long (*)(long))dlsym(lib, "patch_entry");
            if (!entry) { printf("no patch_entry\\n"); return 4; }
            long result = entry(20);
            printf("result %ld calls %d data %ld\\n", result, host_calls, ext_data);
            if (!next_line(line, sizeof line)) return 5;
            long (*routed)(long) = (long (*)(long))strtoull(line, NULL, 16);
            printf("routed %ld old %ld\\n", routed(5), compute(5));
            fflush(stdout);
            return 0;
        }
        """

    private static let patchSource = """
        #include <stdio.h>
        extern long ext_fn(long);
        extern long ext_data;
        extern __thread long ext_tls;
        __attribute__((noinline)) static long compute(long x) { return x + 100; }
        long patch_entry(long x) {
            long doubled = ext_fn(x);
            long seen = ext_data;
            ext_data = seen + 1;
            printf("patch sees data %ld tls %ld\\n", seen, ext_tls);
            return doubled * 1000 + compute(seen);
        }
        """

    @Test func patchLibraryReachesTheRunningHostThroughTheStub() throws {
        let architecture = try #require(StubArchitecture.host)
        let directory = try LinkTestTools.makeScratchDirectory("link")
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let hostSource = "\(directory)/host.c", host = "\(directory)/host"
        try Self.hostSource.write(toFile: hostSource, atomically: true, encoding: .utf8)
        try LinkTestTools.runChecked(LinkTestTools.clang, ["-O1", "-fPIE", "-pie", "-rdynamic", hostSource, "-o", host, "-ldl"])
        let patchObject = try LinkTestTools.compileC(Self.patchSource, in: directory, name: "patch")
        let fat = SymbolList(try LinkTestTools.readelfSymbols(host))
        let patch = SymbolList(try LinkTestTools.readelfSymbols(patchObject))

        let needed = NeededSymbols.make(undefinedInPatch: patch.undefinedNames, fatBinary: fat)
        #expect(needed.functions.map(\.name) == ["ext_fn"])
        #expect(needed.data.map(\.name) == ["ext_data"])
        #expect(needed.boundByLoader == ["ext_tls"])
        #expect(needed.leftUndefined.contains("printf"))

        let running = try StubObjectHostProcess(host)
        let reference = try #require(HexAddress.parse(try running.value(after: "aslr ")))
        let oldCompute = try #require(HexAddress.parse(try running.value(after: "compute ")))
        let main = try #require(fat.definitions(named: "main").first)
        let slide = ASLRSlide(aslrReference: reference, anchorFileAddress: main.address)
        #expect(slide.offset != 0, "the host should be a slid PIE")

        let stubPath = "\(directory)/stub.o"
        try StubObject.make(needed: needed, slide: slide, architecture: architecture, path: stubPath)
        let libraryPath = "\(directory)/libwhisker-patch-1-abcdef.so"
        let plan = try LinkPlan.make(
            os: .linux, linker: LinkTestTools.clang, capturedArguments: ["-m64"], objects: [patchObject], stubObject: stubPath,
            outputPath: libraryPath)
        let outcome = try LinkOutcome.run(plan)
        #expect(outcome.libraryPath == libraryPath)

        let library = SymbolList(try LinkTestTools.readelfSymbols(libraryPath))
        let build = JumpTableBuild.make(
            patchId: 1, buildId: "btest", libraryPath: libraryPath, slide: slide, old: fat, new: library,
            excluding: Set(needed.functions.map(\.name)))
        #expect(build.routed == ["compute"], "routed: \(build.routed)")
        let entry = try #require(build.table.runtimeMap.first)
        #expect(entry.old == oldCompute)

        try running.send(libraryPath)
        let base = try #require(HexAddress.parse(try running.value(after: "base ")))
        // The trampoline reached the host's function; the absolute symbol is the host's live
        // storage (1235, then written back as 1236); the loader bound the exported thread-local.
        #expect(try running.readLine() == "host ext_fn(20)")
        #expect(try running.readLine() == "patch sees data 1235 tls 9")
        #expect(try running.readLine() == "result 41335 calls 1 data 1236")
        // The jump table's new address, plus the loader's base, is the patch's `compute`.
        try running.send(HexAddress.format(base + entry.new))
        #expect(try running.readLine() == "routed 105 old 6")
        #expect(running.waitForExit() == 0, "\(running.transcript)")
    }

    /// The aarch64 stub links with lld into an aarch64 shared library whose call goes through the
    /// trampoline (checked by disassembly; nothing here can run it).
    @Test func aarch64StubLinksIntoAnAArch64Library() throws {
        let directory = try LinkTestTools.makeScratchDirectory("link-a64")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let object = try LinkTestTools.compileC(
            "extern long ext_fn(long); extern long ext_data; long entry(long x) { return ext_fn(x) + ext_data; }",
            in: directory, name: "patch", flags: ["--target=aarch64-linux-gnu"])
        let needed = NeededSymbols.make(
            undefinedInPatch: SymbolList(try LinkTestTools.readelfSymbols(object)).undefinedNames,
            fatBinary: SymbolList([
                SymbolInfo(name: "ext_fn", address: 0x40_1000, kind: .function), SymbolInfo(name: "ext_data", address: 0x42_0000, size: 8, kind: .data),
            ]))
        let slide = ASLRSlide(aslrReference: 0xaaaa_0000_0000 + 0x40_0000, anchorFileAddress: 0x40_0000)
        let stubPath = "\(directory)/stub.o"
        let stub = try StubObject.make(needed: needed, slide: slide, architecture: .aarch64, path: stubPath)
        var plan = try LinkPlan.make(
            os: .linux, linker: LinkTestTools.clang, capturedArguments: ["--target=aarch64-linux-gnu"], objects: [object],
            stubObject: stubPath, outputPath: "\(directory)/lib.so")
        // No aarch64 libc here: link only what the test provides.
        plan.arguments.removeAll { $0 == "-lc" || $0 == "-lgcc_s" }
        plan.arguments.insert("-nostdlib", at: 0)
        try LinkOutcome.run(plan)

        let library = SymbolList(try LinkTestTools.readelfSymbols("\(directory)/lib.so"))
        let trampoline = try #require(library.definitions(named: "ext_fn").first)
        #expect(trampoline.kind == .function && trampoline.binding == .local)  // hidden → local in the output
        let listing = try LinkTestTools.runChecked("llvm-objdump", ["-d", "\(directory)/lib.so"]).stdout
        #expect(listing.contains("bl\t0x\(String(trampoline.address, radix: 16)) <ext_fn>"), "\(listing)")
        #expect(stub.trampolines.first?.target == 0xaaaa_0000_1000 + 0x40_0000)
        // The data reference resolved to the absolute runtime address (through the GOT or directly).
        let relocations = try LinkTestTools.runChecked("readelf", ["-rW", "\(directory)/lib.so"]).stdout
        #expect(!relocations.contains("ext_data"), "ext_data must be resolved at link time:\n\(relocations)")
    }
}
