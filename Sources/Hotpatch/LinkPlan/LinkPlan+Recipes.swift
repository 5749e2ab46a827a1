import Foundation

/// The per-OS link recipes.
extension LinkPlan {
    /// Plans the link of a patch library.
    ///
    /// - Parameters:
    ///   - os: the target's OS (``LinkerOS/host`` for a local app, ``LinkerOS/init(triple:)``).
    ///   - linker: the captured link's driver (`CapturedLinkerInvocation.linker`); for Android the
    ///     NDK clang for the triple and API level.
    ///   - capturedArguments: the captured link's arguments (`CapturedLinkerInvocation.args`),
    ///     from which `-B`, `-fuse-ld=`, `-m…`, `-target`/`--target=`, `-arch`, the sysroot and
    ///     `-L` are forwarded.
    ///   - objects: the patch objects from the thin rebuild, in link order.
    ///   - stubObject: the stub object (Linux, Android); nil when nothing is needed from the
    ///     executable. Not allowed for macOS.
    ///   - outputPath: where the library goes (unique per patch).
    ///   - architecture: used for macOS's `-arch` when the captured link had none.
    ///   - workingDirectory: the captured link's working directory, for relative paths.
    public static func make(
        os: LinkerOS, linker: String, capturedArguments: [String], objects: [String], stubObject: String?,
        outputPath: String, architecture: StubArchitecture? = nil, workingDirectory: String? = nil
    ) throws(LinkPlanError) -> LinkPlan {
        guard !objects.isEmpty else { throw .noObjects }
        guard isCompilerDriver(linker) else { throw .unsupportedLinker(linker) }
        let captured = CapturedLinkFlags(capturedArguments)
        let arguments: [String]
        switch os {
        case .linux:
            arguments = elfArguments(captured, linker: linker, objects: objects, stubObject: stubObject, outputPath: outputPath,
                                     extraLinkerFlags: [], libraries: ["-lc", "-lgcc_s"])
        case .android:
            // 16 KiB pages: Android 15+ devices may use them and refuse libraries aligned for 4 KiB.
            // No libgcc_s on Android (the NDK links libunwind itself) and no libandroid: a patch
            // binds to what the app already loaded.
            arguments = elfArguments(captured, linker: linker, objects: objects, stubObject: stubObject, outputPath: outputPath,
                                     extraLinkerFlags: ["-Wl,-z,max-page-size=16384"],
                                     libraries: ["-lc", "-lm", "-ldl"])
        case .macos:
            if stubObject != nil { throw .stubNotSupported(os) }
            arguments = macOSArguments(captured, objects: objects, outputPath: outputPath, architecture: architecture)
        }
        return LinkPlan(
            linker: linker, arguments: arguments, outputPath: outputPath, workingDirectory: workingDirectory, os: os)
    }

    /// `-shared` with lld, a soname (Android refuses libraries without one, API ≥ 23), no debug
    /// info, one linker thread, an
    /// `.eh_frame_hdr` (unwinding through patched frames finds their FDEs through it), and no
    /// `--gc-sections` (it would drop patched functions nothing in the patch calls yet, which
    /// the jump table routes to), and `-Bsymbolic` (the patch's calls to its own functions must
    /// bind to the patch, never to the executable's exported copies of the same names — a
    /// workspace library's function would otherwise keep running its old code). No `--no-undefined`: thread-locals and libc symbols stay
    /// undefined on purpose and bind at `dlopen` against the running executable.
    private static func elfArguments(
        _ captured: CapturedLinkFlags, linker: String, objects: [String], stubObject: String?, outputPath: String,
        extraLinkerFlags: [String], libraries: [String]
    ) -> [String] {
        var arguments = captured.forwarded.filter { !$0.hasPrefix("-fuse-ld=") || $0 == "-fuse-ld=lld" }
        // The stub's absolute data symbols need lld (GNU ld rejects PC-relative references to them).
        if !arguments.contains("-fuse-ld=lld") { arguments.append("-fuse-ld=lld") }
        if let directory = lldSearchDirectory(for: linker) { arguments.append("-B\(directory)/") }
        arguments += ["-shared", "-Wl,-soname,\(fileName(of: outputPath))", "-Wl,--eh-frame-hdr", "-Wl,-z,noexecstack", "-Wl,-Bsymbolic"]
        // No debug info in the library: patches compile with full debug info for the layout
        // check (which reads the objects before the link), and shipping it would make a one-line
        // edit's library megabytes (2.1 MB instead of ~0.3 MB on the async example) for every
        // device to download, hash and map. One linker thread: the inputs are a few small objects,
        // and the machine's other cores are busy with the patch's own rustc or the app.
        arguments += ["-Wl,--strip-debug", "-Wl,--threads=1"]
        arguments += extraLinkerFlags
        arguments += ["-o", outputPath]
        arguments += objects
        if let stubObject { arguments.append(stubObject) }
        return arguments + libraries
    }

    /// A cross GCC (`aarch64-linux-gnu-gcc`) looks for `aarch64-linux-gnu-ld.lld` under
    /// `-fuse-ld=lld`, which lld's packages don't install: `-B` the directory of the `ld.lld` on
    /// PATH makes it find the plain name first. Native drivers and clang find `ld.lld` already.
    static func lldSearchDirectory(for linker: String, searchPath: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        let name = fileName(of: linker)
        guard name.hasSuffix("-gcc") || name.hasSuffix("-g++"), name.split(separator: "-").count >= 3,
              let lld = CommandRunner.which("ld.lld", searchPath: searchPath)
        else { return nil }
        return URL(fileURLWithPath: lld).resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    /// `-dynamiclib -undefined dynamic_lookup`: the executable's exported symbols are bound when
    /// the library is loaded into it.
    private static func macOSArguments(
        _ captured: CapturedLinkFlags, objects: [String], outputPath: String, architecture: StubArchitecture?
    ) -> [String] {
        var arguments = captured.forwarded
        if !captured.hasArch, let architecture {
            arguments += ["-arch", architecture == .aarch64 ? "arm64" : "x86_64"]
        }
        arguments += ["-dynamiclib", "-undefined", "dynamic_lookup", "-Wl,-install_name,@rpath/\(fileName(of: outputPath))"]
        arguments += ["-o", outputPath]
        return arguments + objects
    }

    /// Whether `linker` is a C compiler driver (`cc`, `gcc`, `clang`, `x86_64-linux-gnu-gcc`,
    /// `aarch64-linux-android21-clang`, a shell wrapper named like one) rather than a bare
    /// linker (`ld`, `ld.lld`, `rust-lld`), whose command-line language the recipes don't speak.
    static func isCompilerDriver(_ linker: String) -> Bool {
        let name = fileName(of: linker)
        let bareLinkers = ["ld", "ld.lld", "lld", "rust-lld", "ld.bfd", "ld.gold", "mold", "ld64.lld", "ld64"]
        if bareLinkers.contains(name) || name.hasSuffix("-ld") || name.hasSuffix("-ld.lld") { return false }
        return !name.isEmpty
    }

    static func fileName(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
