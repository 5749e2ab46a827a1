import Foundation
import Testing
@testable import Hotpatch

@Suite struct AndroidNDKTests {
    /// Makes `<root>/toolchains/llvm/prebuilt/<host>/bin/<name>` executables, like a real NDK.
    @discardableResult
    func fakeNDK(_ scratch: CaptureScratch, at relative: String, clangs: [String] = ["aarch64-linux-android21-clang", "armv7a-linux-androideabi24-clang", "x86_64-linux-android21-clang"], revision: String? = nil) throws -> URL {
        for clang in clangs {
            try scratch.write("\(relative)/toolchains/llvm/prebuilt/\(AndroidNDK.hostTag)/bin/\(clang)", "#!/bin/sh\n", executable: true)
        }
        if let revision { try scratch.write("\(relative)/source.properties", "Pkg.Desc = Android NDK\nPkg.Revision = \(revision)\n") }
        return scratch.url.appendingPathComponent(relative)
    }

    @Test func ndkHomeComesFirst() throws {
        let scratch = try CaptureScratch()
        let home = try fakeNDK(scratch, at: "home-ndk", revision: "26.1.10909125")
        try fakeNDK(scratch, at: "root-ndk")
        try fakeNDK(scratch, at: "sdk/ndk/27.0.1")
        let ndk = try AndroidNDK.make(environment: ["ANDROID_NDK_HOME": home.path, "ANDROID_NDK_ROOT": scratch.path("root-ndk"), "ANDROID_HOME": scratch.path("sdk")])
        #expect(ndk.root.path == home.path)
        #expect(ndk.version == "26.1.10909125")
        #expect(ndk.source == "ANDROID_NDK_HOME")
    }

    @Test func ndkRootIsSecond() throws {
        let scratch = try CaptureScratch()
        let root = try fakeNDK(scratch, at: "root-ndk")
        try fakeNDK(scratch, at: "sdk/ndk/27.0.1")
        let ndk = try AndroidNDK.make(environment: ["ANDROID_NDK_ROOT": root.path, "ANDROID_HOME": scratch.path("sdk")])
        #expect(ndk.root.path == root.path)
        #expect(ndk.source == "ANDROID_NDK_ROOT")
    }

    @Test func newestVersionUnderAndroidHomeIsChosenNumerically() throws {
        let scratch = try CaptureScratch()
        for version in ["9.2.1", "25.2.9519653", "26.1.10909125", "26.10.1"] { try fakeNDK(scratch, at: "sdk/ndk/\(version)") }
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("sdk/ndk/99.0.0-not-an-ndk"), withIntermediateDirectories: true)
        let ndk = try AndroidNDK.make(environment: ["ANDROID_HOME": scratch.path("sdk")])
        #expect(ndk.version == "26.10.1")
        #expect(ndk.root.lastPathComponent == "26.10.1")
        #expect(ndk.source == "ANDROID_HOME/ndk")
    }

    @Test func variablePointingAtSomethingElseIsAnError() throws {
        let scratch = try CaptureScratch()
        #expect {
            try AndroidNDK.make(environment: ["ANDROID_NDK_HOME": scratch.url.path])
        } throws: { error in
            guard case let .notAnNDK(path, variable) = error as? AndroidNDKError else { return false }
            return path == scratch.url.path && variable == "ANDROID_NDK_HOME"
        }
    }

    @Test func nothingSetIsNotFound() {
        #expect {
            try AndroidNDK.make(environment: ["HOME": "/nonexistent"])
        } throws: { error in
            guard case .notFound = error as? AndroidNDKError else { return false }
            return true
        }
    }

    @Test(arguments: [
        ("aarch64-linux-android", 21, "aarch64-linux-android21-clang"),
        ("armv7-linux-androideabi", 24, "armv7a-linux-androideabi24-clang"),
        ("x86_64-linux-android", 21, "x86_64-linux-android21-clang"),
    ])
    func clangForTripleAndAPILevel(triple: String, api: Int, expected: String) throws {
        let scratch = try CaptureScratch()
        let root = try fakeNDK(scratch, at: "ndk")
        let ndk = try AndroidNDK.make(environment: ["ANDROID_NDK_HOME": root.path])
        let clang = try ndk.clang(forTarget: triple, apiLevel: api)
        #expect(clang.path == root.appendingPathComponent("toolchains/llvm/prebuilt/\(AndroidNDK.hostTag)/bin/\(expected)").path)
    }

    @Test func missingAPILevelAndUnknownTripleAreErrors() throws {
        let scratch = try CaptureScratch()
        let ndk = try AndroidNDK.make(environment: ["ANDROID_NDK_HOME": try fakeNDK(scratch, at: "ndk").path])
        #expect(throws: AndroidNDKError.self) { try ndk.clang(forTarget: "aarch64-linux-android", apiLevel: 34) }
        #expect(throws: AndroidNDKError.self) { try ndk.clang(forTarget: "x86_64-unknown-linux-gnu") }
    }

    @Test func linkerResolutionFallsBackToTheNDKClangForAndroid() throws {
        let scratch = try CaptureScratch()
        let root = try fakeNDK(scratch, at: "ndk")
        let env = ["ANDROID_NDK_HOME": root.path, "HOME": scratch.path("home"), "CARGO_HOME": scratch.path("ch")]
        let linker = ResolvedLinker.resolve(targetTriple: "aarch64-linux-android", projectDirectory: scratch.url, environment: env)
        #expect(linker.command.hasSuffix("/bin/aarch64-linux-android21-clang"))
        #expect(linker.source == "Android NDK (ANDROID_NDK_HOME)")
    }

    @Test func versionOrdering() {
        #expect(AndroidNDK.compareVersions("9.0", "10.0"))
        #expect(AndroidNDK.compareVersions("26.1.1", "26.10"))
        #expect(!AndroidNDK.compareVersions("27.0.0", "26.99.99"))
        #expect(AndroidNDK.compareVersions("26.1", "26.1.1"))
    }
}
