import ArgumentParser

/// `whisker-bench`: benchmarks that print tables. Performance goals live here, not in unit tests.
@main
struct WhiskerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whisker-bench",
        abstract: "Benchmarks for Whisker Hotpatch; run with `swift run -c release whisker-bench …`.",
        subcommands: [SymbolsBenchmark.self, FunctionDiffBenchmark.self, RelocateBenchmark.self, UnitsBenchmark.self])
}
