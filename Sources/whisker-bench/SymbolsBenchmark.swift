import ArgumentParser
import Foundation
import Hotpatch
import ObjectFile

/// `whisker-bench symbols [FILE]`: SymbolTable parse vs `llvm-nm -P --defined-only`, and cache load
/// vs parse, on the same file in the same run.
struct SymbolsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "symbols",
        abstract: "Symbol table parse vs llvm-nm, cache load vs parse (median of several runs).",
        discussion: "Default FILE: rustc's $(rustc --print sysroot)/lib/librustc_driver-*.so (165k symbols).")

    @Argument(help: "The binary to measure (default: rustc's librustc_driver-*.so).")
    var file: String?

    @Option(help: "Measured runs per step (after one warm-up run).")
    var runs = 7

    @Option(name: .customLong("llvm-nm"), help: "The llvm-nm to compare with.")
    var llvmNm = "llvm-nm"

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        let path = try file ?? Self.rustcDriver()
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        let nm = try Self.locate(llvmNm)

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let cache = HotpatchModuleCache(directory: scratch.path)

        var table = try SymbolTable.make(contentsOf: path)
        let llvm = try Measurement.run("llvm-nm -P --defined-only", runs: runs) { try Self.runQuietly(nm, ["-P", "--defined-only", path]) }
        let parse = try Measurement.run("SymbolTable parse (map, read, index)", runs: runs) { table = try SymbolTable.make(contentsOf: path) }
        let digest = try HotpatchModuleCache.sha256(ofFileAt: path)
        _ = try CachedSymbolTable.make(forBinaryAt: path, architecture: nil, digest: digest, cache: cache)  // fills the entry
        var loadedCount = 0
        let load = Measurement.run("cache load (map + verify .wsym)", runs: runs) {
            loadedCount = cache.loadEntry(forDigest: digest)?.count ?? -1
        }
        let sha = try Measurement.run("sha256 of the binary (cache key)", runs: runs) {
            _ = try HotpatchModuleCache.sha256(ofFileAt: path)
        }
        let hit = try Measurement.run("cache hit end to end (sha256 + load)", runs: runs) {
            _ = try CachedSymbolTable.make(forBinaryAt: path, architecture: nil, cache: cache)
        }
        guard loadedCount == table.count else {
            throw ValidationError("cache load returned \(loadedCount) symbols, parse \(table.count)")
        }
        let entrySize = (try? FileManager.default.attributesOfItem(atPath: cache.entryPath(forDigest: digest))[.size] as? NSNumber)?.intValue ?? 0

        print("whisker-bench symbols: \(path)")
        print("  \(Self.megabytes(size)) binary, \(table.count) symbols (\(table.definedCount) defined), \(Self.megabytes(entrySize)) cache entry; median of \(runs) runs after a warm-up, warm page cache\n")
        var text = TextTable(header: ["step", "median", "min", "vs parse"])
        for measurement in [llvm, parse, load, sha, hit] {
            let ratio = measurement.median.seconds / parse.median.seconds
            text.rows.append([measurement.label, measurement.median.milliseconds, measurement.minimum.milliseconds,
                              String(format: "%.2f×", ratio)])
        }
        print(text.render())
        let parseSpeedup = llvm.median.seconds / parse.median.seconds
        let loadSpeedup = parse.median.seconds / load.median.seconds
        print("")
        print(String(format: "parse vs llvm-nm:   %6.1f× faster (goal ≥ 5×)   %@", parseSpeedup, parseSpeedup >= 5 ? "met" : "NOT met"))
        print(String(format: "cache load vs parse: %5.1f× faster (goal ≥ 20×)  %@", loadSpeedup, loadSpeedup >= 20 ? "met" : "NOT met"))
    }

    // MARK: Helpers

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

    /// `$(rustc --print sysroot)/lib/librustc_driver-*.so`.
    static func rustcDriver() throws -> String {
        let rustc = try locate("rustc")
        let sysroot = try capture(rustc, ["--print", "sysroot"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let lib = "\(sysroot)/lib"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        guard let name = names.first(where: { $0.hasPrefix("librustc_driver-") && $0.hasSuffix(".so") }) else {
            throw ValidationError("no librustc_driver-*.so in \(lib); pass a FILE")
        }
        return "\(lib)/\(name)"
    }

    /// An executable by path or on PATH (plus `~/.cargo/bin`).
    static func locate(_ tool: String) throws -> String {
        if tool.contains("/") { return tool }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + [NSHomeDirectory() + "/.cargo/bin"]
        for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(tool)") {
            return "\(directory)/\(tool)"
        }
        throw ValidationError("'\(tool)' not found on PATH")
    }

    static func capture(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs a tool with output discarded (it still formats every line) and checks its status.
    static func runQuietly(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(executable) exited with \(process.terminationStatus)")
        }
    }
}
