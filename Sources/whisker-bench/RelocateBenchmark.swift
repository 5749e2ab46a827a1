import ArgumentParser
import Foundation
import Hotpatch

/// `whisker-bench relocate`: time of the relocate stage (patch objects made slide-independent
/// against the fat binary's symbols), the step the shared patch library adds to every patch.
struct RelocateBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relocate",
        abstract: "Relocate-stage time for one patch object (median of several runs).",
        discussion: """
            Pass a thin object compiled with -Ccode-model=large -Crelocation-model=static (a patch \
            directory's obj/*.o) and the fat binary it patches (the build's bin/<name>).
            """)

    @Option(help: "The patch object (repeat for a workspace patch).")
    var object: [String]

    @Option(help: "The fat binary.")
    var executable: String

    @Option(help: "Measured runs (after one warm-up run).")
    var runs = 15

    func run() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-bench-relocate-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var symbols = try SymbolTable.make(contentsOf: executable)
        let parse = try Measurement.run("fat binary symbols (uncached parse)", runs: runs) {
            symbols = try SymbolTable.make(contentsOf: executable)
        }
        var relocated: RelocatedObjects?
        let relocate = try Measurement.run("RelocatedObjects.make", runs: runs) {
            relocated = try RelocatedObjects.make(objects: object, executable: symbols, directory: scratch)
        }
        print("whisker-bench relocate: \(object.count) object(s); \(relocated?.summary.executableReferences ?? 0) executable references, \(relocated?.slots ?? 0) slots")
        print("  median of \(runs) runs after a warm-up, warm page cache\n")
        var table = TextTable(header: ["step", "median", "min"])
        for measurement in [parse, relocate] {
            table.rows.append([measurement.label, measurement.median.milliseconds, measurement.minimum.milliseconds])
        }
        print(table.render())
    }
}
