import Foundation
import Testing
@testable import Hotpatch

@Suite struct WrapperLinkerResolutionTests {
    let triple = "x86_64-unknown-linux-gnu"

    /// An environment whose CARGO_HOME and HOME point into `scratch`, so the machine's own cargo
    /// config can't leak into the test.
    func isolatedEnvironment(_ scratch: CaptureScratch, _ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": scratch.path("home"), "CARGO_HOME": scratch.path("cargo-home"), "PATH": "/usr/bin:/bin"].merging(extra) { _, new in new }
    }

    @Test func defaultIsCC() throws {
        let scratch = try CaptureScratch()
        let linker = ResolvedLinker.resolve(targetTriple: triple, projectDirectory: scratch.url, environment: isolatedEnvironment(scratch))
        #expect(linker == ResolvedLinker(command: "cc", source: "default"))
    }

    @Test func targetEnvironmentVariableBeatsConfig() throws {
        let scratch = try CaptureScratch()
        try scratch.write("proj/.cargo/config.toml", "[target.\(triple)]\nlinker = \"clang\"\n")
        let env = isolatedEnvironment(scratch, ["CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER": "/opt/my-cc"])
        let linker = ResolvedLinker.resolve(targetTriple: triple, projectDirectory: scratch.url.appendingPathComponent("proj"), environment: env)
        #expect(linker.command == "/opt/my-cc")
        #expect(linker.source == "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER")
    }

    @Test func rustflagsLinkerWinsAndCanBeRemoved() throws {
        let scratch = try CaptureScratch()
        let env = isolatedEnvironment(scratch, ["RUSTFLAGS": "-C opt-level=1 -C linker=clang-17 -Ctarget-cpu=native",
                                                "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER": "gcc"])
        let linker = ResolvedLinker.resolve(targetTriple: triple, projectDirectory: scratch.url, environment: env)
        #expect(linker == ResolvedLinker(command: "clang-17", source: "RUSTFLAGS"))
        let flags = try #require(RustFlags.fromEnvironment(env))
        #expect(flags.withoutLinker.encoded == "-C opt-level=1 -Ctarget-cpu=native")
    }

    @Test func encodedRustflagsTakePrecedenceOverRustflags() throws {
        let scratch = try CaptureScratch()
        let env = isolatedEnvironment(scratch, ["RUSTFLAGS": "-Clinker=a", "CARGO_ENCODED_RUSTFLAGS": "-Clinker=b\u{1F}-Cdebuginfo=0"])
        #expect(ResolvedLinker.resolve(targetTriple: triple, projectDirectory: scratch.url, environment: env).command == "b")
        #expect(RustFlags.fromEnvironment(env)?.withoutLinker.encoded == "-Cdebuginfo=0")
    }

    @Test func nearestConfigWinsAndRelativePathsResolveFromItsDirectory() throws {
        let scratch = try CaptureScratch()
        try scratch.write(".cargo/config.toml", "[target.\(triple)]\nlinker = \"outer-cc\"\n")
        try scratch.write("ws/.cargo/config.toml", """
            # comment
            [build]
            jobs = 4
            [target.'\(triple)']
            linker = "tools/my cc" # trailing comment
            rustflags = ["-Cfoo"]
            """)
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("ws/app"), withIntermediateDirectories: true)
        let linker = ResolvedLinker.resolve(targetTriple: triple, projectDirectory: scratch.url.appendingPathComponent("ws/app"), environment: isolatedEnvironment(scratch))
        #expect(linker.command == scratch.path("ws/tools/my cc"))
        #expect(linker.source == scratch.path("ws/.cargo/config.toml"))
    }

    @Test func cargoHomeConfigIsTheLastResort() throws {
        let scratch = try CaptureScratch()
        try scratch.write("cargo-home/config.toml", "target.\(triple).linker = 'clang'\n")
        let linker = ResolvedLinker.resolve(targetTriple: triple, projectDirectory: scratch.url, environment: isolatedEnvironment(scratch))
        #expect(linker.command == "clang")
    }

    @Test func configParserSubset() {
        let values = CargoConfig.parse("""
            [target."aarch64-linux-android"]
            linker = "/ndk/clang"
            ar = 'llvm-ar'
            [target.x86_64-unknown-linux-gnu]
            runner = ["qemu"]
            [build]
            target = "aarch64-linux-android"
            [[bin]]
            name = "x"
            [env]
            "QUOTED.KEY" = "with \\"escape\\""
            """)
        #expect(values["target.aarch64-linux-android.linker"] == "/ndk/clang")
        #expect(values["target.aarch64-linux-android.ar"] == "llvm-ar")
        #expect(values["target.x86_64-unknown-linux-gnu.runner"] == nil)
        #expect(values["build.target"] == "aarch64-linux-android")
        #expect(values["env.QUOTED.KEY"] == "with \"escape\"")
        #expect(!values.keys.contains { $0.hasSuffix(".name") })
    }

    @Test func cargoTargetVariableName() {
        #expect(ResolvedLinker.cargoTargetVariable("armv7-linux-androideabi", "LINKER") == "CARGO_TARGET_ARMV7_LINUX_ANDROIDEABI_LINKER")
        #expect(ResolvedLinker.cargoTargetVariable("x86_64-unknown-linux-gnu", "RUNNER") == "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER")
    }
}
