import Foundation
import Hotpatch
import Testing

/// The link recipes' command lines, from a link captured the way rustc 1.95 really invokes `cc`.
@Suite struct LinkPlanTests {
    /// What rustc 1.95 passed to `cc` for a hello-world binary on this machine (objects and rlibs
    /// trimmed), plus a `--target`, a sysroot and a GCC-style `-Bstatic` that must not be forwarded.
    private static let captured = [
        "-m64", "/tmp/x/m.m.abc-cgu.0.rcgu.o", "-Wl,--as-needed", "-Wl,-Bstatic", "/r/libstd-1.rlib", "-Wl,-Bdynamic",
        "-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc", "-L", "/tmp/rustcVz/raw-dylibs",
        "-B/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld",
        "-fuse-ld=lld", "-Wl,--eh-frame-hdr", "-Wl,-z,noexecstack", "-L",
        "/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/x86_64-unknown-linux-gnu/lib", "-o",
        "/work/app/target/debug/deps/app-1234", "-Wl,--gc-sections", "-pie", "-Wl,-z,relro,-z,now", "-nodefaultlibs",
        "-Bstatic", "-Ldeps", "-march=x86-64-v2",
    ]

    @Test func linuxForwardsTheToolchainFlagsAndLinksASharedLibraryWithLLD() throws {
        let plan = try LinkPlan.make(
            os: .linux, linker: "cc", capturedArguments: Self.captured, objects: ["/p/obj/app.o"], stubObject: "/p/stub.o",
            outputPath: "/p/libwhisker-patch-3-a1b2c3.so", workingDirectory: "/work/app")
        #expect(plan.linker == "cc")
        #expect(plan.outputPath == "/p/libwhisker-patch-3-a1b2c3.so")
        #expect(plan.workingDirectory == "/work/app")
        #expect(plan.arguments == [
            "-m64", "-L", "/tmp/rustcVz/raw-dylibs",
            "-B/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld",
            "-fuse-ld=lld", "-L", "/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/x86_64-unknown-linux-gnu/lib",
            "-Ldeps", "-march=x86-64-v2",
            "-shared", "-Wl,-soname,libwhisker-patch-3-a1b2c3.so", "-Wl,--eh-frame-hdr", "-Wl,-z,noexecstack", "-Wl,-Bsymbolic", "-Wl,--strip-debug", "-Wl,--threads=1",
            "-o", "/p/libwhisker-patch-3-a1b2c3.so", "/p/obj/app.o", "/p/stub.o", "-lc", "-lgcc_s",
        ])
        // What the fat link did for an executable must not leak into the library's link.
        for flag in ["-pie", "-nodefaultlibs", "-Wl,--gc-sections", "-Bstatic", "-Wl,--as-needed"] {
            #expect(!plan.arguments.contains(flag), "\(flag) was forwarded")
        }
    }

    @Test func linuxInsistsOnLLDWhateverTheCapturedLinkUsed() throws {
        let plan = try LinkPlan.make(
            os: .linux, linker: "/usr/bin/gcc", capturedArguments: ["-fuse-ld=bfd", "-B", "/opt/prefix"], objects: ["a.o", "b.o"],
            stubObject: nil, outputPath: "lib.so")
        #expect(plan.arguments == [
            "-B", "/opt/prefix", "-fuse-ld=lld", "-shared", "-Wl,-soname,lib.so", "-Wl,--eh-frame-hdr", "-Wl,-z,noexecstack", "-Wl,-Bsymbolic", "-Wl,--strip-debug", "-Wl,--threads=1",
            "-o", "lib.so", "a.o", "b.o", "-lc", "-lgcc_s",
        ])
        #expect(plan.commandLine.hasPrefix("/usr/bin/gcc -B /opt/prefix -fuse-ld=lld -shared"))
    }

    @Test func androidUsesTheNDKClangWithSixteenKilobytePagesAndMinimalLibraries() throws {
        let ndkClang = "/ndk/toolchains/llvm/prebuilt/linux-x86_64/bin/aarch64-linux-android24-clang"
        let plan = try LinkPlan.make(
            os: .android, linker: ndkClang,
            capturedArguments: ["--target=aarch64-linux-android24", "-fuse-ld=lld", "-L", "/ndk/sysroot/usr/lib", "-landroid", "-llog"],
            objects: ["/p/obj/app.o"], stubObject: "/p/stub.o", outputPath: "/p/libwhisker-patch-1-000001.so")
        #expect(plan.linker == ndkClang)
        #expect(plan.os == .android)
        #expect(plan.arguments == [
            "--target=aarch64-linux-android24", "-fuse-ld=lld", "-L", "/ndk/sysroot/usr/lib",
            "-shared", "-Wl,-soname,libwhisker-patch-1-000001.so", "-Wl,--eh-frame-hdr", "-Wl,-z,noexecstack", "-Wl,-Bsymbolic", "-Wl,--strip-debug", "-Wl,--threads=1",
            "-Wl,-z,max-page-size=16384", "-o", "/p/libwhisker-patch-1-000001.so", "/p/obj/app.o", "/p/stub.o", "-lc", "-lm", "-ldl",
        ])
        #expect(!plan.arguments.contains("-landroid") && !plan.arguments.contains("-lgcc_s"))
    }

    @Test func macOSLinksADylibThatLooksSymbolsUpInTheExecutable() throws {
        let plan = try LinkPlan.make(
            os: .macos, linker: "cc",
            capturedArguments: ["-arch", "arm64", "-mmacosx-version-min=11.0.0", "-isysroot", "/SDKs/MacOSX.sdk", "-o", "app", "-nodefaultlibs"],
            objects: ["/p/obj/app.o"], stubObject: nil, outputPath: "/p/libwhisker-patch-2-abcdef.dylib")
        #expect(plan.arguments == [
            "-arch", "arm64", "-mmacosx-version-min=11.0.0", "-isysroot", "/SDKs/MacOSX.sdk",
            "-dynamiclib", "-undefined", "dynamic_lookup", "-Wl,-install_name,@rpath/libwhisker-patch-2-abcdef.dylib",
            "-o", "/p/libwhisker-patch-2-abcdef.dylib", "/p/obj/app.o",
        ])
    }

    @Test func macOSAddsArchWhenTheCaptureHadNone() throws {
        let plan = try LinkPlan.make(
            os: .macos, linker: "clang", capturedArguments: ["--target=x86_64-apple-macosx10.12"], objects: ["a.o"],
            stubObject: nil, outputPath: "lib.dylib", architecture: .x86_64)
        #expect(plan.arguments.starts(with: ["--target=x86_64-apple-macosx10.12", "-arch", "x86_64", "-dynamiclib"]))
    }

    @Test func refusesWhatCannotWork() {
        #expect(throws: LinkPlanError.self) {
            try LinkPlan.make(os: .linux, linker: "cc", capturedArguments: [], objects: [], stubObject: nil, outputPath: "x.so")
        }
        #expect(throws: LinkPlanError.self) {
            try LinkPlan.make(os: .macos, linker: "cc", capturedArguments: [], objects: ["a.o"], stubObject: "stub.o", outputPath: "x.dylib")
        }
        for bare in ["ld.lld", "/usr/bin/ld", "rust-lld", "/x/aarch64-linux-gnu-ld"] {
            #expect(throws: LinkPlanError.self, "\(bare)") {
                try LinkPlan.make(os: .linux, linker: bare, capturedArguments: [], objects: ["a.o"], stubObject: nil, outputPath: "x.so")
            }
        }
    }

    @Test func commandLineQuotesWhatAShellWouldSplit() {
        let plan = LinkPlan(linker: "cc", arguments: ["-o", "/tmp/my lib.so", "it's.o"], outputPath: "/tmp/my lib.so", os: .linux)
        #expect(plan.commandLine == "cc -o '/tmp/my lib.so' 'it'\\''s.o'")
    }

    @Test func hostIsLinuxHere() {
        #if os(Linux)
            #expect(LinkerOS.host == .linux)
        #endif
        #expect(LinkerOS.macos.libraryExtension == "dylib" && LinkerOS.android.libraryExtension == "so")
    }

    @Test func aFailingLinkReportsTheCommandAndTheLinkersDiagnostics() throws {
        let directory = try LinkTestTools.makeScratchDirectory("link")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let object = try LinkTestTools.compileC("extern int missing(void); int f(void) { return missing(); }", in: directory, name: "f")
        // -Wl,--no-undefined turns the missing symbol into a link error.
        var plan = try LinkPlan.make(
            os: .linux, linker: LinkTestTools.clang, capturedArguments: [], objects: [object], stubObject: nil,
            outputPath: "\(directory)/lib.so")
        plan.arguments.insert("-Wl,--no-undefined", at: 0)
        do {
            _ = try LinkOutcome.run(plan)
            Issue.record("the link succeeded")
        } catch {
            #expect(error.code == "link_failed")
            #expect(error.message.contains(plan.commandLine))
            #expect(error.diagnostics?.contains("missing") == true, "the linker's own output names the symbol")
            #expect(error.hint?.contains("defined neither in the fat binary") == true)
        }
        let missingLinker = LinkPlan(linker: "/nonexistent/cc", arguments: [], outputPath: "x.so", os: .linux)
        #expect(throws: LinkPlanError.self) { try LinkOutcome.run(missingLinker) }
    }
}
