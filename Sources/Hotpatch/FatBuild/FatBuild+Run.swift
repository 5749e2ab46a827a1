import Foundation

extension FatBuild {
    /// The fat-build stage: builds `project` with cargo through the capture shims and keeps what a patch needs: a copy of
    /// the binary, the rustc call of every workspace crate, the link of the binary, and fingerprints of
    /// every source file (the project state). Writes `builds/<id>/build.json` and returns the same record.
    ///
    /// - Where it builds: cargo's `--target-dir` is the project's cache directory
    ///   (`ProjectLayout.targetDirectory`), not the project's `target/`; see there for why.
    /// - Capturing every workspace crate: cargo only runs the wrapper for crates it recompiles. The
    ///   wrapper is given to cargo through a symlink inside the new build directory, and cargo's
    ///   fingerprint of a workspace crate includes the wrapper's path, so each build recompiles exactly
    ///   the workspace crates (dependencies stay fresh) and every one of them is captured. Should a
    ///   future cargo stop doing that (the binary crate comes back fresh), the fresh path packages
    ///   without a capture are cleaned (`cargo clean -p`) and cargo runs again (`recaptures` counts this).
    /// - `symbolCount` reads the kept binary's symbol table (the `symbols` field); nil leaves it out.
    public static func run(
        project: URL,
        bin: String? = nil,
        package: String? = nil,
        release: Bool = false,
        target: String? = nil,
        cacheDir: URL? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        shims: ShimPaths? = nil,
        symbolCount: (@Sendable (URL) throws -> Int)? = nil,
        cancellation: Cancellation? = nil,
        id: BuildID? = nil,
        progress: @escaping @Sendable (BuildProgress) -> Void = { _ in }
    ) throws -> FatBuild {
        try run(project: project, bin: bin, package: package, release: release, target: target, cacheDir: cacheDir,
                environment: environment, shims: shims, symbolCount: symbolCount, cancellation: cancellation,
                progress: progress, perBuildWrapper: true, id: id)
    }

    /// `perBuildWrapper: false` hands cargo the shim's own (stable) path, which defeats the forced
    /// recompilation of workspace crates; tests use it to exercise the recapture fallback.
    static func run(
        project: URL,
        bin: String?,
        package: String?,
        release: Bool,
        target: String?,
        cacheDir: URL?,
        environment: [String: String],
        shims: ShimPaths?,
        symbolCount: (@Sendable (URL) throws -> Int)?,
        cancellation: Cancellation?,
        progress: @escaping @Sendable (BuildProgress) -> Void,
        perBuildWrapper: Bool,
        id requestedID: BuildID? = nil
    ) throws -> FatBuild {
        var clock = PhaseClock()
        let startedAt = Date()
        func finish(_ name: String) { progress(.phaseFinished(clock.lap(name))) }

        // prepare: everything that can fail before cargo runs.
        progress(.phaseStarted("prepare"))
        let projectURL = project.standardizedFileURL
        guard FileManager.default.fileExists(atPath: projectURL.appendingPathComponent("Cargo.toml").path) else {
            throw FatBuildError.noCargoToml(project: projectURL.path)
        }
        let layout = ProjectLayout(project: projectURL, cacheDirectory: ProjectLayout.resolveCacheDirectory(explicit: cacheDir, environment: environment))
        let shimPaths = try shims ?? ShimPaths.make(environment: environment)
        guard let cargoPath = Toolchain.find("cargo", environment: environment) else {
            throw CommandError.notFound(name: "cargo", searchPath: Toolchain.searchPath(environment: environment))
        }
        let rustc = try Toolchain.rustcVersion(environment: environment, directory: layout.projectDirectory)
        let config = CargoConfig(directory: layout.projectDirectory, environment: environment)
        let configuredTarget = environment["CARGO_BUILD_TARGET"].flatMap { $0.isEmpty ? nil : $0 } ?? config.string(["build", "target"])?.value
        let triple = target ?? configuredTarget ?? rustc.host
        try EnvironmentCheck.ensureTargetSupported(triple)

        // The server names a queued build before it runs, so its id is known to clients at once.
        let id = requestedID ?? BuildID.make(date: startedAt)
        let directory = layout.build(id)
        do {
            try directory.create()
            try FileManager.default.createDirectory(at: layout.targetDirectory, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(at: directory.shimDirectory.appendingPathComponent(ShimPaths.rustcShimName), withDestinationURL: shimPaths.rustcShim)
        } catch {
            throw FileError.cannotWrite(path: directory.root.path, reason: "\(error)")
        }
        let log = LogFile(directory.log)
        defer { log.close() }

        let linker = ResolvedLinker.resolve(targetTriple: triple, projectDirectory: layout.projectDirectory, environment: environment)
        // A cross build without a configured linker would fail only after compiling everything,
        // in a wall of "file in wrong format" from the host's linker.
        if triple != rustc.host, let mismatch = linker.architectureMismatch(target: triple, environment: environment) {
            throw FatBuildError.crossLinkerMismatch(target: triple, linker: "\(linker.command) (from \(linker.source))", reason: mismatch)
        }
        let linkerConfig = LinkerCaptureConfig(shim: shimPaths.linkerShim, realLinker: linker, captureDirectory: directory.captures, targetTriple: triple)
        var cargoEnvironment = Toolchain.environmentWithToolchainPath(environment)
        cargoEnvironment.merge(linkerConfig.cargoEnvironment) { _, new in new }
        cargoEnvironment["RUSTC_WORKSPACE_WRAPPER"] = perBuildWrapper
            ? directory.shimDirectory.appendingPathComponent(ShimPaths.rustcShimName).path
            : shimPaths.rustcShim.path
        // Path dependencies outside the workspace count as workspace crates, but cargo runs the
        // workspace wrapper for members only: the shim as RUSTC_WRAPPER records them (it passes
        // members on to the workspace shim). A wrapper of the user's own (sccache…) is left alone.
        let wrapsPathDependencies = [environment["RUSTC_WRAPPER"], environment["CARGO_BUILD_RUSTC_WRAPPER"]].allSatisfy { ($0 ?? "").isEmpty }
        if wrapsPathDependencies { cargoEnvironment["RUSTC_WRAPPER"] = shimPaths.rustcShim.path }
        cargoEnvironment["CARGO_TERM_PROGRESS_WHEN"] = "never"
        // A `-C linker` in the user's flags would win over the shim; the shim runs that linker instead.
        if let flags = RustFlags.fromEnvironment(environment), flags.linker != nil {
            cargoEnvironment[flags.variable] = flags.withoutLinker.encoded
        }
        let cargo = CargoBuild(cargo: cargoPath, layout: layout, bin: bin, package: package, release: release, target: target, environment: cargoEnvironment)
        log.write("whisker-dev build \(id) of \(layout.projectDirectory.path) for \(triple); linker \(linker.command) (from \(linker.source))")
        finish("prepare")

        progress(.phaseStarted("cargo"))
        var command = cargo.buildCommand
        var outcome = try CargoBuild.run(command, log: log, cancellation: cancellation, progress: progress)
        try checkCargo(outcome, log: directory.log)
        finish("cargo")

        var recaptures = 0
        var executable = try selectExecutable(outcome.crates, bin: bin, project: layout.projectDirectory.path, messages: outcome.result.stdoutText)
        // The binary crate is certainly a workspace member; if cargo reused it, the wrapper trick
        // above did not work and every fresh path package may be an uncaptured member. (Fresh path
        // packages alone prove nothing: path dependencies outside the workspace are never wrapped.)
        // A path dependency outside the workspace keeps its file names across builds (the workspace
        // wrapper's path is not hashed into them), so cargo reuses it: an earlier build's capture of
        // the very files cargo reported still replays it.
        adoptEarlierCaptures(outcome.crates, layout: layout, into: directory)
        let stale = uncapturedWorkspaceCrates(outcome.crates, captures: directory.rustcCaptures)
        if executable.crate.fresh || wrapsPathDependencies, !stale.isEmpty {
            progress(.phaseStarted("recapture"))
            let packages = Array(Set(stale.map(\.packageSpec))).sorted()
            let clean = try CommandRunner.run(cargo.cleanCommand(packages: packages), cancellation: cancellation)
            log.write("$ \(clean.command.displayString)\n\(clean.stderrText)")
            command = cargo.buildCommand
            outcome = try CargoBuild.run(command, log: log, cancellation: cancellation, progress: progress)
            try checkCargo(outcome, log: directory.log)
            recaptures = 1
            executable = try selectExecutable(outcome.crates, bin: bin, project: layout.projectDirectory.path, messages: outcome.result.stdoutText)
            adoptEarlierCaptures(outcome.crates, layout: layout, into: directory)
            finish("recapture")
        }

        progress(.phaseStarted("keep"))
        let tipFile = CapturedRustcInvocation.captureFilename(crateName: executable.crate.crateName, crateTypes: executable.crate.crateTypes)
        let tipURL = directory.rustcCaptures.appendingPathComponent(tipFile)
        guard FileManager.default.fileExists(atPath: tipURL.path) else {
            throw FatBuildError.captureMissing(crate: executable.crate.crateName, directory: directory.rustcCaptures.path)
        }
        let tip = try JSONFile.read(CapturedRustcInvocation.self, from: tipURL)
        let linkerCapture = try findLinkerCapture(for: tip, in: directory.linkerCaptures, binary: executable.path)
        let kept = directory.binDirectory.appendingPathComponent(URL(fileURLWithPath: executable.path).lastPathComponent)
        do {
            try FileManager.default.copyItem(atPath: executable.path, toPath: kept.path)
        } catch {
            throw FatBuildError.cannotKeepBinary(path: kept.path, reason: (error as NSError).localizedDescription)
        }
        finish("keep")

        progress(.phaseStarted("fingerprint"))
        let pathCaptures = Set(outcome.crates.filter(\.isPathPackage).map {
            CapturedRustcInvocation.captureFilename(crateName: $0.crateName, crateTypes: $0.crateTypes)
        })
        let tracked = try trackedCrates(in: directory.rustcCaptures, tip: tip, only: pathCaptures)
        finish("fingerprint")

        var symbols: Int?
        if let symbolCount {
            progress(.phaseStarted("symbols"))
            symbols = try symbolCount(kept)
            finish("symbols")
        }

        let crates = outcome.crates.map { crate -> BuiltCrate in
            var annotated = crate
            let file = CapturedRustcInvocation.captureFilename(crateName: crate.crateName, crateTypes: crate.crateTypes)
            if !crate.kind.contains("custom-build"), FileManager.default.fileExists(atPath: directory.rustcCaptures.appendingPathComponent(file).path) {
                annotated.capture = file
            }
            return annotated
        }
        let build = FatBuild(
            id: id,
            project: layout.projectDirectory.path,
            binary: kept.path,
            originalBinary: executable.path,
            symbols: symbols,
            durationMs: clock.elapsed.milliseconds,
            phases: clock.phases,
            crates: crates,
            target: triple,
            host: rustc.host,
            profile: release ? "release" : "debug",
            bin: bin,
            package: package,
            tipCapture: tipURL.path,
            linkerCapture: linkerCapture.path,
            linker: linker,
            buildDirectory: directory.root.path,
            captureDirectory: directory.captures.path,
            targetDirectory: layout.targetDirectory.path,
            logPath: directory.log.path,
            startedAt: ISO8601DateFormatter().string(from: startedAt),
            cargoCommand: [command.executable] + command.arguments,
            recaptures: recaptures,
            pipelineVersion: FatBuild.currentPipelineVersion
        )
        try JSONFile.write(build, to: directory.buildRecord)
        var state = try ProjectState.load(layout)
        state.project = layout.projectDirectory.path
        state.lastBuildId = id
        state.sources = tracked
        state.buildInputs = BuildInputs.record(
            project: layout.projectDirectory, packageDirectories: try packageDirectories(in: directory.rustcCaptures, tip: tip, only: pathCaptures))
        try state.save(layout)
        return build
    }

    private static func checkCargo(_ outcome: CargoBuild.Outcome, log: URL) throws {
        guard outcome.result.succeeded else {
            throw FatBuildError.cargoFailed(exitStatus: outcome.result.exitStatus, diagnostics: CargoBuild.diagnostics(outcome.result.stderrText), logPath: log.path)
        }
    }

    /// Path packages (not build scripts) cargo found up to date and the wrapper never saw: workspace
    /// members to recapture, or path dependencies outside the workspace.
    private static func uncapturedWorkspaceCrates(_ crates: [BuiltCrate], captures: URL) -> [BuiltCrate] {
        crates.filter { crate in
            crate.fresh && crate.isPathPackage && !crate.kind.contains("custom-build")
                && !FileManager.default.fileExists(atPath: captures.appendingPathComponent(
                    CapturedRustcInvocation.captureFilename(crateName: crate.crateName, crateTypes: crate.crateTypes)).path)
        }
    }

    /// The executable cargo produced: the `--bin` one, or the only one.
    private static func selectExecutable(_ crates: [BuiltCrate], bin: String?, project: String, messages: String) throws -> (crate: BuiltCrate, path: String) {
        var executables: [(BuiltCrate, String)] = []
        for line in messages.split(separator: "\n") {
            guard let message = CargoMessage.decode(String(line)), let crate = message.builtCrate,
                  let path = message.executable, crate.kind.contains("bin") else { continue }
            executables.append((crate, path))
        }
        if let bin {
            guard let match = executables.first(where: { $0.0.name == bin }) else { throw FatBuildError.noBinary(project: project) }
            return match
        }
        guard let only = executables.first else { throw FatBuildError.noBinary(project: project) }
        guard executables.count == 1 else { throw FatBuildError.ambiguousBinary(names: executables.map(\.0.name)) }
        return only
    }

    /// The linker capture whose output is the tip crate's file in cargo's `deps/` directory (the
    /// executable cargo reports is a hard link to it); the newest if it was linked twice.
    private static func findLinkerCapture(for tip: CapturedRustcInvocation, in directory: URL, binary: String) throws -> URL {
        let expected = tip.outDir.map { URL(fileURLWithPath: $0).appendingPathComponent("\(tip.crateName)\(tip.extraFilename ?? "")").standardizedFileURL.path }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var best: (url: URL, at: Double)?
        for file in files where file.hasSuffix(".json") {
            let url = directory.appendingPathComponent(file)
            guard let capture = try? JSONFile.read(CapturedLinkerInvocation.self, from: url),
                  let output = capture.outputPath.map({ URL(fileURLWithPath: $0).standardizedFileURL.path }),
                  output == expected || output == binary else { continue }
            if best == nil || capture.capturedAt > (best?.at ?? 0) { best = (url, capture.capturedAt) }
        }
        guard let best else { throw FatBuildError.linkerCaptureMissing(binary: binary, directory: directory.path) }
        return best.url
    }

    /// Copies into `build`'s captures the newest earlier capture of each fresh library of a path
    /// package that this build did not capture, when cargo reported the very rlib or rmeta that
    /// capture wrote (same crate, same flags).
    private static func adoptEarlierCaptures(_ crates: [BuiltCrate], layout: ProjectLayout, into build: BuildDirectory) {
        let files = FileManager.default
        let builds = ((try? files.contentsOfDirectory(atPath: layout.buildsDirectory.path)) ?? [])
            .sorted(by: >)
            .map { layout.buildsDirectory.appendingPathComponent($0).appendingPathComponent("captures/rustc") }
            .filter { $0.standardizedFileURL.path != build.rustcCaptures.standardizedFileURL.path }
        for crate in crates where crate.fresh && crate.isPathPackage && !crate.kind.contains("custom-build") && !crate.kind.contains("bin") {
            let file = CapturedRustcInvocation.captureFilename(crateName: crate.crateName, crateTypes: crate.crateTypes)
            let destination = build.rustcCaptures.appendingPathComponent(file)
            guard !files.fileExists(atPath: destination.path) else { continue }
            let reported = Set((crate.filenames ?? []).map { URL(fileURLWithPath: $0).standardizedFileURL.path })
            for directory in builds {
                let source = directory.appendingPathComponent(file)
                guard let capture = try? JSONFile.read(CapturedRustcInvocation.self, from: source), let outDir = capture.outDir else { continue }
                let stem = URL(fileURLWithPath: outDir).appendingPathComponent(CrateGraph.libraryStem(of: capture)).standardizedFileURL.path
                guard reported.contains(stem + ".rlib") || reported.contains(stem + ".rmeta") else { continue }
                try? files.copyItem(at: source, to: destination)
                break
            }
        }
    }

    /// The manifest directories of the tip and of every path package captured in this build.
    private static func packageDirectories(in directory: URL, tip: CapturedRustcInvocation, only pathCaptures: Set<String>) throws -> [String] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".json") && (pathCaptures.contains($0) || $0 == tip.captureFilename) }
        return try files.compactMap { file in
            try JSONFile.read(CapturedRustcInvocation.self, from: directory.appendingPathComponent(file)).environment["CARGO_MANIFEST_DIR"]
        }
    }

    /// Source tracking for the binary crate and every library of a path package captured in this
    /// build (other binaries and build scripts are not part of the running program; registry crates
    /// never change).
    private static func trackedCrates(in directory: URL, tip: CapturedRustcInvocation, only pathCaptures: Set<String>) throws -> [TrackedCrate] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".json") && (pathCaptures.contains($0) || $0 == tip.captureFilename) }.sorted()
        var result: [TrackedCrate] = []
        for file in files {
            let capture = try JSONFile.read(CapturedRustcInvocation.self, from: directory.appendingPathComponent(file))
            guard !capture.isBuildScript, !capture.isBinary || capture.captureFilename == tip.captureFilename else { continue }
            result.append(try TrackedCrate.measure(capture))
        }
        return result
    }
}
