import Foundation
import Testing
@testable import Hotpatch

@Suite struct ValidateTests {
    @Test(arguments: [
        (["--crate-name", "a", "--target", "aarch64-linux-android"], "aarch64-linux-android"),
        (["--crate-name", "a", "--target=x86_64-apple-darwin"], "x86_64-apple-darwin"),
        (["--target", "/specs/my-board.json"], "my-board"),
        (["--crate-name", "a"], nil),
    ] as [([String], String?)])
    func targetFromRustcArguments(arguments: [String], expected: String?) {
        #expect(RustcCommandLine(arguments).targetTriple == expected)
    }

    @Test func targetFromVersionOutput() throws {
        let output = """
            rustc 1.95.0 (59807616e 2026-04-14)
            binary: rustc
            commit-hash: 59807616e1fa2540724bfbac14d7976d7e4a3860
            commit-date: 2026-04-14
            host: x86_64-unknown-linux-gnu
            release: 1.95.0
            LLVM version: 22.1.2
            """
        #expect(RustcVersion(parsing: output)?.host == "x86_64-unknown-linux-gnu")
        let version = try #require(RustcVersion(parsing: output))
        #expect(version.release == "1.95.0")
        #expect(version.llvmVersion == "22.1.2")
        #expect(version.summary == "rustc 1.95.0 (59807616e 2026-04-14)")
        #expect(RustcVersion(parsing: "garbage")?.host == nil)
    }

    @Test(arguments: ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu", "aarch64-linux-android", "x86_64-linux-android", "aarch64-apple-darwin", "x86_64-apple-darwin"])
    func supportedTargets(triple: String) throws {
        try EnvironmentCheck.ensureTargetSupported(triple)
    }

    @Test(arguments: ["armv7-linux-androideabi", "wasm32-unknown-unknown", "x86_64-pc-windows-msvc", "aarch64-apple-ios", "x86_64-unknown-linux-musl"])
    func unsupportedTargets(triple: String) {
        #expect {
            try EnvironmentCheck.ensureTargetSupported(triple)
        } throws: { error in
            guard case let .unsupportedTarget(reported, _) = error as? EnvironmentError else { return false }
            return reported == triple
        }
    }

    @Test func missingStandardLibraryNamesRustupTargetAdd() throws {
        let scratch = try CaptureScratch()
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("lib/rustlib/x86_64-unknown-linux-gnu/lib"), withIntermediateDirectories: true)
        try EnvironmentCheck.ensureTargetSupported("x86_64-unknown-linux-gnu", sysroot: scratch.url)
        #expect {
            try EnvironmentCheck.ensureTargetSupported("aarch64-unknown-linux-gnu", sysroot: scratch.url)
        } throws: { error in
            (error as? EnvironmentError)?.hint == "rustup target add aarch64-unknown-linux-gnu"
        }
    }

    /// This machine has the whole toolchain; each required check passes and reports a version.
    @Test func environmentOfThisMachinePasses() {
        let checks = EnvironmentCheck.run()
        let names = checks.map(\.name)
        #expect(names.starts(with: ["cargo", "rustc", "C linker", "lld"]))
        for check in checks where check.required {
            #expect(check.passed, "\(check.name): \(check.detail)")
        }
        #expect(checks.first { $0.name == "rustc" }?.detail.contains("rustc 1.") == true)
    }

    /// Without PATH or a rustup home, every Rust check fails and says how to fix it.
    @Test func missingToolsFailWithFixes() throws {
        let scratch = try CaptureScratch()
        let checks = EnvironmentCheck.run(environment: ["PATH": scratch.url.path, "HOME": scratch.url.path], target: "aarch64-linux-android")
        for name in ["cargo", "rustc", "C linker", "lld", "Android NDK"] {
            let check = try #require(checks.first { $0.name == name }, "no \(name) check")
            #expect(!check.passed, "\(name) should fail")
            #expect(check.fix?.isEmpty == false, "\(name) should say how to fix it")
        }
    }
}
