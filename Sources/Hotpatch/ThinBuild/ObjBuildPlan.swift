import Foundation

/// The rustc command that rebuilds one crate as a single object for a patch, derived from the
/// crate's captured fat-build call:
/// - `--emit=obj,dep-info` into a fresh absolute `--out-dir` (the patch's `obj/`); no rlib, rmeta
///   or link. The dep-info (a few hundred bytes) lets the patcher track files an edit added.
/// - one codegen unit, so there is exactly one object to link;
/// - `-C metadata` and `-C extra-filename` kept: symbol hashes must match the fat binary's;
/// - `-C incremental` dropped: cargo's incremental directory must not be shared or corrupted;
/// - `--error-format=json` / `--json` dropped: failures show rustc's human-readable diagnostics;
/// - `-C lto` dropped: an LTO object would carry every dependency's code, not just this crate's;
/// - `-C linker` dropped (nothing is linked); `CARGO_MAKEFLAGS` removed from the environment
///   (it names jobserver file descriptors that only existed inside cargo).
public struct ObjBuildPlan: Codable, Sendable, Equatable {
    public var rustc: String
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String
    public var outDirectory: String
    public var crateName: String
    public var extraFilename: String
    /// Added at the end (e.g. `-Ccode-model=large`, `-Cdebuginfo=0`): later flags win in rustc.
    public var extraArguments: [String]

    public init(invocation: CapturedRustcInvocation, outDirectory: URL, extraArguments: [String] = []) {
        let dropped: Set<String> = ["--emit", "--out-dir", "-o", "--error-format", "--json"]
        let droppedCodegen: Set<String> = ["incremental", "codegen-units", "linker", "lto"]
        var kept: [String] = []
        for argument in RustcCommandLine(invocation.arguments).arguments {
            if dropped.contains(argument.name) { continue }
            if let key = argument.codegenKey, droppedCodegen.contains(key) { continue }
            kept += argument.spelling
        }
        let out = outDirectory.standardizedFileURL.path
        kept += ["--emit=obj,dep-info", "--out-dir", out, "-Ccodegen-units=1"]
        kept += extraArguments

        var environment = invocation.environment
        for variable in ["CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS", ShimEnvironment.captureDirectory] {
            environment.removeValue(forKey: variable)
        }

        self.rustc = invocation.rustc
        self.arguments = kept
        self.environment = environment
        self.workingDirectory = invocation.workingDirectory
        self.outDirectory = out
        self.crateName = invocation.crateName
        self.extraFilename = invocation.extraFilename ?? ""
        self.extraArguments = extraArguments
    }

    /// The object rustc writes: `<crate name><extra filename>.o`.
    public var objectFilename: String { Hotpatch.objectFilename(crateName: crateName, extraFilename: extraFilename) }
    public var objectPath: URL { URL(fileURLWithPath: outDirectory).appendingPathComponent(objectFilename) }
    public var depInfoPath: URL { URL(fileURLWithPath: outDirectory).appendingPathComponent("\(crateName)\(extraFilename).d") }

    public var command: Command {
        Command(rustc, arguments, environment: environment, workingDirectory: URL(fileURLWithPath: workingDirectory))
    }
}

/// Where rustc puts the object of `--emit=obj` for a crate (with one codegen unit).
public func objectFilename(crateName: String, extraFilename: String) -> String {
    "\(crateName)\(extraFilename).o"
}

/// A patch library's file name, unique per patch (`dlopen` caches libraries by path, so a name is
/// never reused): `libwhisker-patch-<patch id>-<6 hex>.<ext>`; `ext` is `so` (Linux, Android) or
/// `dylib` (macOS).
public func libraryFilename(patchId: Int, fileExtension: String = "so") -> String {
    "libwhisker-patch-\(patchId)-\(randomHex(count: 6)).\(fileExtension)"
}
