import Foundation

/// The rustc command that rebuilds one crate for a patch, derived from the crate's captured
/// fat-build call:
/// - `--emit=obj,dep-info` into a fresh absolute `--out-dir` (the patch's `obj/`). The dep-info (a
///   few hundred bytes) lets the patcher track files an edit added. A library that rebuilt
///   dependents compile against also emits `metadata,link` (its rlib and rmeta, `emitsLibrary`);
/// - `--extern <crate>=…` of every crate rebuilt earlier in the same patch points at the new rlib,
///   and `-L dependency=<out dir>` comes first, so crates found only through other crates'
///   metadata resolve to the rebuilt copy too (rustc matches them by crate hash);
/// - **incremental** (`incrementalDirectory` set, for crates cargo compiled incrementally): the
///   patch's own `-C incremental` directory (never cargo's, which must stay untouched and usable)
///   and the captured codegen units, so rustc re-codegens only the units an edit touched and
///   writes one object per unit (`<crate><extra>.<unit>.<session>.rcgu.o`); a library emits only
///   its rmeta, which dependents compile against (no rlib is linked: objects are);
/// - otherwise one codegen unit, so there is exactly one object to link, and cargo's
///   `-C incremental` dropped;
/// - `-C metadata` and `-C extra-filename` kept: symbol hashes must match the fat binary's;
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
    /// The crate's capture file in the build (`mylib-lib.json`); empty in plans written before
    /// workspace libraries could be rebuilt (those always rebuilt the build's binary crate).
    public var captureFile: String
    /// Also writes the crate's rlib and rmeta (`libraryPath`) for dependents rebuilt after it.
    public var emitsLibrary: Bool
    /// The patch's own incremental directory for this crate; nil: one codegen unit, no incremental
    /// state (plans stored before incremental thin rebuilds, release profiles).
    public var incrementalDirectory: String?
    /// Metadata-only rlibs to write before this step runs: `.rmeta` of an earlier incremental step
    /// → the `.rlib` path its `--extern` names (see ``MetadataArchive``).
    public var metadataArchives: [String: String] = [:]

    /// - `rebuiltLibraries`: library file stem (`lib<crate><extra filename>`) → the rlib an earlier
    ///   step of the same patch wrote; every `--extern` naming a file with that stem (`.rlib` or
    ///   `.rmeta`, under any alias) is rewritten to it.
    public init(
        invocation: CapturedRustcInvocation, outDirectory: URL, extraArguments: [String] = [],
        emitsLibrary: Bool = false, rebuiltLibraries: [String: String] = [:], incrementalDirectory: URL? = nil
    ) {
        let dropped: Set<String> = ["--emit", "--out-dir", "-o", "--error-format", "--json"]
        // Incremental replays keep the captured codegen units: the same partitioning as the fat
        // build, and units an edit did not touch are reused from the patch's incremental state.
        let droppedCodegen: Set<String> = incrementalDirectory == nil
            ? ["incremental", "codegen-units", "linker", "lto"] : ["incremental", "linker", "lto"]
        let out = outDirectory.standardizedFileURL.path
        var kept: [String] = rebuiltLibraries.isEmpty ? [] : ["-L", "dependency=\(out)"]
        var archives: [String: String] = [:]
        // Libraries an earlier patch compiled (linked again, not replayed) live in that patch's
        // directory; crates that reach them only through another crate's metadata look there.
        let earlier = Set(rebuiltLibraries.values.map { URL(fileURLWithPath: $0).deletingLastPathComponent().standardizedFileURL.path })
        for directory in earlier.subtracting([out]).sorted() { kept += ["-L", "dependency=\(directory)"] }
        for argument in RustcCommandLine(invocation.arguments).arguments {
            if dropped.contains(argument.name) { continue }
            if let key = argument.codegenKey, droppedCodegen.contains(key) { continue }
            if argument.name == "--extern", let value = argument.value, let extern = ExternArgument(value),
               let path = extern.path, let rebuilt = rebuiltLibraries[CrateGraph.stem(ofFile: path) ?? ""] {
                // A crate that links (a bin) needs its dependencies "in rlib format" on rustc
                // before ~1.7x even when it only emits objects; newer rustc takes the rmeta.
                if rebuilt.hasSuffix(".rmeta"), MetadataArchive.isNeeded(forCrateTypes: invocation.crateTypes) {
                    let archive = String(rebuilt.dropLast(".rmeta".count)) + ".rlib"
                    archives[rebuilt] = archive
                    kept += ["--extern", "\(extern.prefix)=\(archive)"]
                } else {
                    kept += ["--extern", "\(extern.prefix)=\(rebuilt)"]
                }
                continue
            }
            kept += argument.spelling
        }
        if let incrementalDirectory {
            // rustc keeps per-unit objects in the out dir only when it links nothing.
            kept += [emitsLibrary ? "--emit=obj,dep-info,metadata" : "--emit=obj,dep-info", "--out-dir", out,
                     "-Cincremental=\(incrementalDirectory.standardizedFileURL.path)"]
            // With `--emit=obj` alone rustc defaults to one unit; cargo's incremental build used
            // rustc's incremental default, 256, unless the profile said otherwise.
            if !RustcCommandLine(invocation.arguments).arguments.contains(where: { $0.codegenKey == "codegen-units" }) {
                kept += ["-Ccodegen-units=256"]
            }
        } else {
            kept += [emitsLibrary ? "--emit=obj,dep-info,metadata,link" : "--emit=obj,dep-info", "--out-dir", out, "-Ccodegen-units=1"]
        }
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
        self.captureFile = invocation.captureFilename
        self.emitsLibrary = emitsLibrary
        self.incrementalDirectory = incrementalDirectory?.standardizedFileURL.path
        self.metadataArchives = archives
    }

    // Plans stored before workspace libraries could be rebuilt lack the last two fields.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rustc = try container.decode(String.self, forKey: .rustc)
        arguments = try container.decode([String].self, forKey: .arguments)
        environment = try container.decode([String: String].self, forKey: .environment)
        workingDirectory = try container.decode(String.self, forKey: .workingDirectory)
        outDirectory = try container.decode(String.self, forKey: .outDirectory)
        crateName = try container.decode(String.self, forKey: .crateName)
        extraFilename = try container.decode(String.self, forKey: .extraFilename)
        extraArguments = try container.decode([String].self, forKey: .extraArguments)
        captureFile = try container.decodeIfPresent(String.self, forKey: .captureFile) ?? ""
        emitsLibrary = try container.decodeIfPresent(Bool.self, forKey: .emitsLibrary) ?? false
        incrementalDirectory = try container.decodeIfPresent(String.self, forKey: .incrementalDirectory)
        metadataArchives = try container.decodeIfPresent([String: String].self, forKey: .metadataArchives) ?? [:]
    }

    /// The object rustc writes with one codegen unit: `<crate name><extra filename>.o`.
    public var objectFilename: String { Self.objectFilename(crateName: crateName, extraFilename: extraFilename) }
    public var objectPath: URL { URL(fileURLWithPath: outDirectory).appendingPathComponent(objectFilename) }
    /// What dependents rebuilt after it compile against when `emitsLibrary`:
    /// `lib<crate name><extra filename>.rlib`, or its `.rmeta` for an incremental step.
    public var libraryPath: URL? {
        guard emitsLibrary else { return nil }
        let suffix = incrementalDirectory == nil ? "rlib" : "rmeta"
        return URL(fileURLWithPath: outDirectory).appendingPathComponent("lib\(crateName)\(extraFilename).\(suffix)")
    }

    /// The objects this step's rustc wrote into `outDirectory`, in name order: the single
    /// `<crate><extra>.o`, or one `<crate><extra>.<unit>.<session>.rcgu.o` per codegen unit.
    /// The prefix includes the extra filename, so a package's lib and bin (same crate name) and
    /// other crates sharing the out dir never mix.
    /// `directory`: another out dir the same crate was compiled into (the build's warm-up).
    public func writtenObjects(in directory: String? = nil) -> [String] {
        let stem = "\(crateName)\(extraFilename)"
        let outDirectory = directory ?? self.outDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outDirectory)) ?? []
        let units = names.filter { $0.hasPrefix(stem + ".") && $0.hasSuffix(".rcgu.o") }.sorted()
        // With one unit, rustc writes its `.rcgu.o` and a copy named `<crate><extra>.o`.
        let files = units.isEmpty ? (names.contains(objectFilename) ? [objectFilename] : []) : units
        return files.map { URL(fileURLWithPath: outDirectory).appendingPathComponent($0).path }
    }
    public var depInfoPath: URL { URL(fileURLWithPath: outDirectory).appendingPathComponent("\(crateName)\(extraFilename).d") }

    public var command: Command {
        Command(rustc, arguments, environment: environment, workingDirectory: URL(fileURLWithPath: workingDirectory))
    }
}

/// One `--extern` value: `[modifiers:]name[=path]` (e.g. `noprelude:core=/…/libcore.rlib`).
struct ExternArgument: Equatable {
    /// Everything before `=`: the modifiers and the name.
    var prefix: String
    var crateName: String
    var path: String?

    init?(_ value: String) {
        let parts = value.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard let head = parts.first, !head.isEmpty else { return nil }
        prefix = String(head)
        crateName = String(head.split(separator: ":").last ?? head)
        path = parts.count == 2 ? String(parts[1]) : nil
    }
}

extension ObjBuildPlan {
    /// Where rustc puts the object of `--emit=obj` for a crate (with one codegen unit).
    public static func objectFilename(crateName: String, extraFilename: String) -> String {
        "\(crateName)\(extraFilename).o"
    }
}
