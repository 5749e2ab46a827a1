import ArgumentParser
import Foundation
import Hotpatch

/// `whisker-bench units`: time of the codegen-unit selection (which units of an incremental
/// replay go into the patch library), run on a build's warm-up objects.
struct UnitsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "units",
        abstract: "Codegen-unit selection time for one crate (median of several runs).",
        discussion: """
            Pass the build's warm-up directory (<cache>/projects/<p>/builds/<id>/diff-baseline) and \
            the crate's object prefix (e.g. async_service-9446526cd87809f3). The "patch" is a copy \
            of the warm-up's units with --changed of them rewritten (a byte appended), so the \
            selection compares every unit and propagates from the changed ones.
            """)

    @Option(help: "The warm-up directory holding the crate's codegen-unit objects.")
    var warmUp: String

    @Option(help: "The crate's object file prefix (`<crate>-<hash>`).")
    var prefix: String

    @Option(help: "Units to present as changed.")
    var changed = 1

    @Option(help: "Measured runs (after one warm-up run).")
    var runs = 15

    func run() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: warmUp)
            .filter { $0.hasPrefix(prefix + ".") && $0.hasSuffix(".rcgu.o") }.sorted()
        guard !names.isEmpty else { throw ValidationError("no \(prefix).*.rcgu.o in \(warmUp)") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-bench-units-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let baseline = names.map { warmUp + "/" + $0 }
        var current: [String] = []
        for (index, name) in names.enumerated() {
            let copy = scratch.appendingPathComponent(name)
            if index < changed {
                // Same unit, other bytes: compared, found changed, analysed afresh.
                var bytes = try Data(contentsOf: URL(fileURLWithPath: baseline[index]))
                bytes.append(0)
                try bytes.write(to: copy)
            } else {
                try FileManager.default.linkItem(atPath: baseline[index], toPath: copy.path)
            }
            current.append(copy.path)
        }
        let crate = CrateBuildResult(
            crateName: prefix, captureFile: "bench-bin.json", objectPaths: current, depInfoPath: "", libraryPath: nil,
            rustcStartedAt: 0, durationMs: 0)
        var selection: CodegenUnitSelection?
        let measurement = try Measurement.run("select (\(names.count) units, \(changed) changed)", runs: runs) {
            selection = try CodegenUnitSelection.make(
                crates: [crate], baselines: ["bench-bin.json": baseline], previouslyLinked: [:], executableDefines: { _ in true })
        }
        let summary = selection?.summaries.first
        print("whisker-bench units: \(summary?.units ?? 0) units, \(summary?.changed ?? 0) changed, \(summary?.linked ?? 0) linked")
        print("  median of \(runs) runs after a warm-up (warm-up units parsed once, as in the server)\n")
        var table = TextTable(header: ["step", "median", "min"])
        table.rows.append([measurement.label, measurement.median.milliseconds, measurement.minimum.milliseconds])
        print(table.render())
    }
}
