import ArgumentParser
import Foundation
import Hotpatch

/// `whisker-bench function-diff`: time of the per-function comparison of a crate's old and new
/// objects (read both, fingerprint every function, compare), by default on the counter example
/// compiled before and after an edit of `message()`.
struct FunctionDiffBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "function-diff",
        abstract: "Per-function change detection time (median of several runs).",
        discussion: """
            Without --old/--new: builds examples/counter with cargo, then compiles its crate with \
            rustc --emit=obj (codegen-units=1, the fat build's -C metadata) before and after an edit \
            of message(), and measures the comparison of the two objects.
            """)

    @Option(help: "An old object (repeat for several codegen units).")
    var old: [String] = []

    @Option(help: "A new object (repeat for several codegen units).")
    var new: [String] = []

    @Option(help: "Measured runs per step (after one warm-up run).")
    var runs = 15

    @Option(help: "The counter example's directory (default: examples/counter of the current directory).")
    var example = "examples/counter"

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard old.isEmpty == new.isEmpty else { throw ValidationError("pass both --old and --new, or neither") }
    }

    func run() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-bench-fndiff-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let (oldObjects, newObjects) = old.isEmpty ? try CounterObjects.build(example: example, scratch: scratch) : (old, new)

        var oldSide = try ObjectFunctions(objects: oldObjects)
        var newSide = try ObjectFunctions(objects: newObjects)
        var report = DiffReport.make(old: oldSide, new: newSide)
        let readOld = try Measurement.run("read + fingerprint old", runs: runs) { oldSide = try ObjectFunctions(objects: oldObjects) }
        let readNew = try Measurement.run("read + fingerprint new", runs: runs) { newSide = try ObjectFunctions(objects: newObjects) }
        let compare = Measurement.run("compare", runs: runs) { report = DiffReport.make(old: oldSide, new: newSide) }
        let total = try Measurement.run("DiffReport.make (all of it)", runs: runs) {
            report = try DiffReport.make(oldObjects: oldObjects, newObjects: newObjects)
        }
        let bytes = (oldObjects + newObjects).reduce(0) { sum, path in
            sum + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0)
        }

        print("whisker-bench function-diff: \(oldObjects.count) old, \(newObjects.count) new object(s), \(String(format: "%.1f", Double(bytes) / 1e6)) MB")
        print("  \(newSide.functions.count) functions in the new side; result: \(report.summary)")
        print("  median of \(runs) runs after a warm-up, warm page cache\n")
        var table = TextTable(header: ["step", "median", "min"])
        for measurement in [readOld, readNew, compare, total] {
            table.rows.append([measurement.label, measurement.median.milliseconds, measurement.minimum.milliseconds])
        }
        print(table.render())
        print("")
        for name in report.changed { print("  changed: \(RustDemangler.demangle(name) ?? name)") }
        for name in report.added { print("  added:   \(RustDemangler.demangle(name) ?? name)") }
        for name in report.removed { print("  removed: \(RustDemangler.demangle(name) ?? name)") }
    }
}

/// The counter example's crate as an object before and after an edit, built in a scratch copy.
enum CounterObjects {
    /// `cargo rustc -- --emit=obj -Ccodegen-units=1` on a copy of the example (its path
    /// dependency made absolute), once as is and once with `message()` returning another string.
    static func build(example: String, scratch: URL) throws -> (old: [String], new: [String]) {
        let exampleURL = URL(fileURLWithPath: example).standardizedFileURL
        let manifest = exampleURL.appendingPathComponent("Cargo.toml")
        let source = exampleURL.appendingPathComponent("src/main.rs")
        guard FileManager.default.fileExists(atPath: manifest.path) else {
            throw ValidationError("no Cargo.toml in \(exampleURL.path); run from the repository root or pass --example")
        }
        let copy = scratch.appendingPathComponent("counter")
        try FileManager.default.createDirectory(at: copy.appendingPathComponent("src"), withIntermediateDirectories: true)
        let runtime = exampleURL.appendingPathComponent("../../runtime").standardizedFileURL.path
        let toml = try String(contentsOf: manifest, encoding: .utf8).replacingOccurrences(of: "\"../../runtime\"", with: "\"\(runtime)\"")
        try toml.write(to: copy.appendingPathComponent("Cargo.toml"), atomically: true, encoding: .utf8)
        let original = try String(contentsOf: source, encoding: .utf8)
        let edited = original.replacingOccurrences(of: "\"hello from counter\"", with: "\"hello from a patched counter\"")
        guard edited != original else { throw ValidationError("examples/counter/src/main.rs no longer says \"hello from counter\"") }

        var objects: [String] = []
        for (index, text) in [original, edited].enumerated() {
            try text.write(to: copy.appendingPathComponent("src/main.rs"), atomically: true, encoding: .utf8)
            let target = copy.appendingPathComponent("target")
            let cargo = try SymbolsBenchmark.locate("cargo")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: cargo)
            process.arguments = ["rustc", "-q", "--bin", "counter", "--target-dir", target.path, "--", "--emit=obj", "-Ccodegen-units=1"]
            process.currentDirectoryURL = copy
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ValidationError("cargo rustc failed in \(copy.path)") }
            let deps = target.appendingPathComponent("debug/deps")
            let names = try FileManager.default.contentsOfDirectory(atPath: deps.path)
            guard let name = names.first(where: { $0.hasPrefix("counter-") && $0.hasSuffix(".o") }) else {
                throw ValidationError("cargo rustc left no counter-*.o in \(deps.path)")
            }
            let kept = scratch.appendingPathComponent("\(index == 0 ? "old" : "new").o")
            try FileManager.default.copyItem(at: deps.appendingPathComponent(name), to: kept)
            try FileManager.default.removeItem(at: deps.appendingPathComponent(name))
            objects.append(kept.path)
        }
        return ([objects[0]], [objects[1]])
    }
}
