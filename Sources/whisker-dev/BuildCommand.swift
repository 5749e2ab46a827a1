import ArgumentParser
import ErrorModel
import Foundation
import Hotpatch

/// `whisker-dev build`: fat-builds a cargo project through the capture shims and keeps the binary,
/// its captures and source fingerprints for `whisker-dev patch`.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a cargo project for hot-patching (captures rustc and linker calls, keeps the binary)."
    )

    @OptionGroup var selection: ProjectOptions

    @OptionGroup var toolchain: ToolchainOptions

    @Flag(help: "Print the build record as JSON on stdout.")
    var json = false

    @OptionGroup var cache: CacheOptions

    func run() async throws {
        toolchain.apply()
        let printer = BuildProgressPrinter(enabled: !json)
        printer.header(project: URL(fileURLWithPath: selection.project).standardizedFileURL.path)
        // Parsing through the module cache also warms it for the first patch.
        let moduleCache = cache.makeModuleCache()
        let symbolCount: @Sendable (URL) throws -> Int = { try CachedSymbolTable.make(forBinaryAt: $0.path, architecture: nil, cache: moduleCache).table.count }
        let build: FatBuild
        do {
            build = try FatBuild.run(
                project: URL(fileURLWithPath: selection.project),
                bin: selection.bin,
                package: selection.package,
                release: selection.release,
                target: toolchain.target,
                cacheDir: cache.cacheDirectory.map { URL(fileURLWithPath: $0) },
                symbolCount: symbolCount,
                progress: { printer.handle($0) }
            )
        } catch {
            printError(error)
            throw ExitCode.failure
        }
        // The first patch's per-function diff compares against these sources compiled like a patch.
        do {
            let layout = ProjectLayout(
                project: URL(fileURLWithPath: selection.project).standardizedFileURL,
                cacheDirectory: URL(fileURLWithPath: cache.resolvedDirectory))
            let clock = ContinuousClock()
            let start = clock.now
            try Patcher(layout: layout, cache: moduleCache).prepareDiffBaseline(build: build)
            if !json {
                // The warm-up compiles the workspace crates the patch way: a pause worth naming.
                let seconds = (clock.now - start).milliseconds / 1000
                print("  warm-up     \(String(format: "%5.2f", seconds)) s   workspace crates compiled the patch way (first patch's baseline)")
            }
        } catch {
            FileHandle.standardError.write(Data("warning: no per-function diff baseline for the first patch: \((error as? any WhiskerError)?.message ?? "\(error)")\n".utf8))
        }
        if json {
            FileHandle.standardOutput.write(try JSONFile.encode(build) + Data("\n".utf8))
        } else {
            printer.summary(build)
        }
    }
}

/// Prints the failed tool's output (compiler diagnostics), then `error: <message> (hint: <hint>)`,
/// to stderr: the summary is the last line a user sees, as with cargo.
func printError(_ error: Error) {
    let text: String
    if let error = error as? any WhiskerError {
        let head = error.message + (error.hint.map { " (hint: \($0))" } ?? "")
        text = error.diagnostics.map { "\($0)\nerror: \(head)" } ?? "error: \(head)"
    } else {
        text = "error: \(error)"
    }
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Human-readable progress of a fat build: one line per finished phase, crate counts for cargo.
final class BuildProgressPrinter: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var compiled = 0
    private var fresh = 0

    init(enabled: Bool) { self.enabled = enabled }

    func header(project: String) {
        guard enabled else { return }
        print("Building \(project) for hot-patching")
    }

    func handle(_ event: BuildProgress) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case let .crateFinished(_, _, compiled, fresh):
            self.compiled = compiled
            self.fresh = fresh
        case let .phaseFinished(timing):
            var line = "  " + timing.name.padding(toLength: 12, withPad: " ", startingAt: 0) + formatDuration(timing.durationMs).leftPadded(9)
            if timing.name == "cargo" || timing.name == "recapture" {
                line += "   \(compiled) crate\(compiled == 1 ? "" : "s") compiled, \(fresh) up to date"
            }
            print(line)
        case .phaseStarted, .output:
            break
        }
    }

    func summary(_ build: FatBuild) {
        let captured = build.crates.filter { $0.capture != nil }.count
        print("Built \(build.id) in \(formatDuration(build.durationMs)) (\(build.target), \(build.profile))")
        print("  binary   \(build.binary)")
        if let symbols = build.symbols { print("  symbols  \(symbols)") }
        print("  crates   \(build.crates.count) (\(captured) captured for patching)")
    }
}

func formatDuration(_ ms: Double) -> String {
    ms >= 1000 ? String(format: "%.2f s", ms / 1000) : String(format: "%.1f ms", ms)
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
