import Foundation
import Hotpatch

/// A small std-only cargo workspace written on the spot: a binary package `demo-app` (whose crate
/// name `demo_app` differs from the package name) with a module in a file whose name has a space,
/// and a workspace library `demo-lib`. Removed with its cache when released.
final class BuildTestProject: @unchecked Sendable {
    let root: URL
    var project: URL { root.appendingPathComponent("demo app") }
    var cache: URL { root.appendingPathComponent("cache") }

    static let greetingV1 = """
        pub fn greet() -> &'static str {
            "hello v1"
        }
        """

    static let libV1 = """
        pub fn answer() -> u32 {
            42
        }
        """

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("whisker-build-e2e-\(UUID().uuidString.prefix(8))")
            .resolvingSymlinksInPath()
        try write("Cargo.toml", """
            [package]
            name = "demo-app"
            version = "0.1.0"
            edition = "2021"

            [dependencies]
            demo-lib = { path = "demo-lib" }

            [workspace]
            members = ["demo-lib"]
            """)
        try write("src/main.rs", """
            #[path = "greeting file.rs"]
            mod greeting;

            #[inline(never)]
            pub fn helper(x: u32) -> u32 {
                x.wrapping_mul(3).wrapping_add(1)
            }

            fn main() {
                println!("{} {} {}", greeting::greet(), demo_lib::answer(), helper(2));
            }
            """)
        try write("src/greeting file.rs", Self.greetingV1)
        try write("demo-lib/Cargo.toml", """
            [package]
            name = "demo-lib"
            version = "0.1.0"
            edition = "2021"
            """)
        try write("demo-lib/src/lib.rs", Self.libV1)
    }

    /// Writes a file of the project. Ensures the new mtime differs from the old one even on
    /// file systems with coarse timestamps, as an editor's save a moment later would.
    func write(_ relative: String, _ text: String) throws {
        let file = project.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let old = try? FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
        try Data(text.utf8).write(to: file)
        if let old {
            let now = (try? FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date) ?? Date()
            if now <= old {
                try FileManager.default.setAttributes([.modificationDate: old.addingTimeInterval(0.01)], ofItemAtPath: file.path)
            }
        }
    }

    var layout: ProjectLayout { ProjectLayout(project: project, cacheDirectory: cache) }

    deinit { try? FileManager.default.removeItem(at: root) }
}

/// Runs a tool and returns its result; the tests assert on it.
func runTool(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
    try CommandRunner.run(Command(executable, arguments, environment: environment))
}

/// `llvm-nm` output as (type letter, demangled name) for defined symbols, plus mangled names.
struct NMSymbols {
    var demangled: [(type: Character, name: String)] = []
    var mangled: Set<String> = []

    init(_ path: String, dynamic: Bool = false) throws {
        let flags = dynamic ? ["-D", "--defined-only"] : ["--defined-only"]
        let plain = try runTool("/usr/bin/llvm-nm", flags + [path])
        let pretty = try runTool("/usr/bin/llvm-nm", flags + ["-C", path])
        for line in plain.stdoutText.split(separator: "\n") {
            if let name = line.split(separator: " ").last { mangled.insert(String(name)) }
        }
        for line in pretty.stdoutText.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count == 3, let letter = parts[1].first else { continue }
            demangled.append((letter, String(parts[2])))
        }
    }

    /// Whether a function (text symbol) whose demangled name starts with `prefix` is defined.
    func definesFunction(_ prefix: String) -> Bool {
        demangled.contains { ($0.type == "T" || $0.type == "t") && $0.name.hasPrefix(prefix) }
    }
}
