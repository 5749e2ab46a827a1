import Foundation

/// The whole of `whisker-rustc-shim` and `whisker-linker-shim`: record the invocation, then replace
/// the process with the real tool (`execvp`), so stdio, signals and the exit status are the tool's
/// own. Recording problems never fail the build: they cost one `warning:` line on stderr.
public enum Shim {
    /// `RUSTC_WORKSPACE_WRAPPER` and `RUSTC_WRAPPER` entry point: cargo runs `<shim> <real rustc> <args…>`.
    public static func runRustcShim(arguments: [String], environment: [String: String]) -> Never {
        let toolArguments = Array(arguments.dropFirst())
        guard let rustc = toolArguments.first else {
            warn("whisker-rustc-shim: expected `<rustc> <args…>` (it is meant to be RUSTC_WORKSPACE_WRAPPER)")
            exit(2)
        }
        let rustcArguments = Array(toolArguments.dropFirst())
        // As RUSTC_WRAPPER (to see path dependencies outside the workspace), cargo runs workspace
        // members as `<shim> <workspace shim> <rustc> …`: the inner shim records them.
        if URL(fileURLWithPath: rustc).lastPathComponent == ShimPaths.rustcShimName {
            execute(rustc, rustcArguments)
        }
        if let captureDirectory = environment[ShimEnvironment.captureDirectory], !captureDirectory.isEmpty {
            do {
                try CapturedRustcInvocation.make(rustc: rustc, arguments: rustcArguments, environment: environment, captureDirectory: URL(fileURLWithPath: captureDirectory))
            } catch {
                warn("warning: whisker-rustc-shim could not record this rustc call (\(oneLine(error))); hot-patching this crate will not work until the next build")
            }
        }
        // rustc hands its environment to the linker it runs: a build script or proc macro links
        // plainly (smaller, faster), the app's own artifacts the fat-build way.
        if RustcCommandLine(rustcArguments).linksHostTool {
            unsetenv(ShimEnvironment.wholeArchive)
            unsetenv(ShimEnvironment.extraLinkArguments)
        }
        execute(rustc, rustcArguments)
    }

    /// `-Clinker` entry point: rustc runs `<shim> <linker args…>`; the real linker comes from
    /// `WHISKER_REAL_LINKER` (default `cc`) and `WHISKER_LINK_ARGS` are appended.
    public static func runLinkerShim(arguments: [String], environment: [String: String]) -> Never {
        let linkerArguments = Array(arguments.dropFirst())
        var linker = environment[ShimEnvironment.realLinker] ?? ""
        if linker.isEmpty {
            warn("warning: whisker-linker-shim: \(ShimEnvironment.realLinker) is not set; linking with `cc`")
            linker = "cc"
        }
        let extra = (environment[ShimEnvironment.extraLinkArguments] ?? "")
            .split(separator: ShimEnvironment.argumentSeparator).map(String.init)
        if let captureDirectory = environment[ShimEnvironment.captureDirectory], !captureDirectory.isEmpty {
            do {
                try CapturedLinkerInvocation.make(linker: linker, arguments: linkerArguments, extraArguments: extra, captureDirectory: URL(fileURLWithPath: captureDirectory))
            } catch {
                warn("warning: whisker-linker-shim could not record this link (\(oneLine(error))); patches for this build cannot be linked")
            }
        }
        if environment[ShimEnvironment.wholeArchive] == "1" { linkWholeArchive(linker: linker, arguments: linkerArguments, extra: extra) }
        execute(linker, linkerArguments + extra)
    }

    /// Links with every rlib whole (see ``WholeArchiveLink``) and exits with success; returns when
    /// that link failed, for the caller to link as rustc asked.
    private static func linkWholeArchive(linker: String, arguments: [String], extra: [String]) {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        guard let expanded = try? ResponseFile.expandLinkerArguments(arguments, workingDirectory: cwd),
              let wrapped = WholeArchiveLink.wrappingRustLibraries(expanded + extra)
        else { return }
        var responseFile: URL?
        defer { if let responseFile { try? FileManager.default.removeItem(at: responseFile) } }
        var command = wrapped
        if arguments.contains(where: { $0.hasPrefix("@") }) {
            guard let file = try? WholeArchiveLink.responseFile(wrapped, in: FileManager.default.temporaryDirectory) else { return }
            responseFile = file
            command = ["@" + file.path]
        }
        let result = WholeArchiveLink.run(linker, command)
        if result.status == 0 {
            FileHandle.standardError.write(result.stderr)
            exit(0)
        }
        let reason = String(decoding: result.stderr, as: UTF8.self).split(whereSeparator: \.isNewline)
            .first { $0.contains("error") }.map(String.init) ?? "exit status \(result.status)"
        warn("warning: whisker-linker-shim: linking every Rust library whole failed (\(reason)); linked as rustc asked, so an edit that calls std or dependency code the app never used may not load")
    }

    /// Replaces this process with `tool` (looked up on PATH when it has no `/`). Only returns on
    /// failure, with a shell's exit codes: 127 not found, 126 not runnable.
    static func execute(_ tool: String, _ arguments: [String]) -> Never {
        // exec keeps the signal mask: a blocked SIGUSR1 makes rustc wait up to 1 s per crate for
        // its jobserver helper thread (see ChildSignals). The jobserver fds and CARGO_MAKEFLAGS
        // pass through untouched (no O_CLOEXEC on them, same environment).
        ChildSignals.unblockAll()
        let argv = ([tool] + arguments).map { strdup($0) }
        var pointers: [UnsafeMutablePointer<CChar>?] = argv + [nil]
        execvp(tool, &pointers)
        let error = errno
        warn("error: whisker shim cannot run \(tool): \(String(cString: strerror(error)))")
        exit(error == ENOENT ? 127 : 126)
    }

    /// An error as one line: the warning must not break the "one line" promise.
    static func oneLine(_ error: Error) -> String {
        let text = (error as? HotpatchError)?.message ?? "\(error)"
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
