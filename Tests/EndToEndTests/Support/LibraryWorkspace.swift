import Foundation
import Hotpatch

/// A cargo workspace made on the spot: `ws/app` (the binary, hot-calls `tick`), `ws/wlib` (a
/// workspace library) and, outside the workspace directory, `ext/` (a path dependency of both)
/// and a copy of `runtime/` (`whisker-hot`). std only. Removed when released.
///
/// The app prints `whisker: aslr_reference=0x…`, then `tick <n>: <wlib::message()> | <extdep::word()>`
/// every 40 ms, and applies the JumpTable file named by each stdin line (`whisker: applied patch <id>`).
final class LibraryWorkspace: @unchecked Sendable {
    let root: URL
    var project: URL { root.appendingPathComponent("ws") }
    var cache: URL { root.appendingPathComponent("cache") }
    var layout: ProjectLayout { ProjectLayout(project: project, cacheDirectory: cache) }
    var libSource: URL { project.appendingPathComponent("wlib/src/lib.rs") }
    var extSource: URL { root.appendingPathComponent("ext/src/lib.rs") }
    var appSource: URL { project.appendingPathComponent("app/src/main.rs") }

    static let app = """
        use std::io::{BufRead, Write};

        fn say(line: &str) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }

        fn tick(count: &mut u64) {
            *count += 1;
            say(&format!("tick {}: {} | {}", count, wlib::message(), extdep::word()));
        }

        fn main() {
            say(&format!("whisker: aslr_reference={:#x}", whisker_hot::aslr_reference()));
            std::thread::spawn(|| {
                for line in std::io::stdin().lock().lines() {
                    let Ok(path) = line else { break };
                    let outcome = std::fs::read_to_string(path.trim())
                        .map_err(|err| err.to_string())
                        .and_then(|text| whisker_hot::JumpTable::from_json(&text).map_err(|err| err.to_string()))
                        .and_then(|table| whisker_hot::apply(&table).map(|_| ()).map_err(|err| err.to_string()));
                    match outcome {
                        Ok(()) => say(&format!("whisker: applied patch {}", whisker_hot::patch_count())),
                        Err(err) => say(&format!("whisker: patch failed: {err}")),
                    }
                }
            });
            let mut count = 0u64;
            loop {
                whisker_hot::call(|| tick(&mut count));
                std::thread::sleep(std::time::Duration::from_millis(40));
            }
        }
        """

    static func library(_ text: String) -> String {
        """
        /// What the app prints first on each tick.
        pub fn message() -> String {
            format!("{} ({})", "\(text)", extdep::word().len())
        }
        """
    }

    static func external(_ text: String) -> String {
        "pub fn word() -> &'static str {\n    \"\(text)\"\n}\n"
    }

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("whisker-libws-\(UUID().uuidString.prefix(8))")
            .resolvingSymlinksInPath()
        try Self.copyTree(from: BuiltProducts.repositoryRoot.appendingPathComponent("runtime"), to: root.appendingPathComponent("runtime"))
        try write("ws/Cargo.toml", "[workspace]\nmembers = [\"app\", \"wlib\"]\nresolver = \"2\"\n")
        try write("ws/app/Cargo.toml", """
            [package]
            name = "app"
            version = "0.1.0"
            edition = "2021"

            [dependencies]
            wlib = { path = "../wlib" }
            extdep = { path = "../../ext" }
            whisker-hot = { path = "../../runtime" }
            """)
        try write("ws/app/src/main.rs", Self.app)
        try write("ws/wlib/Cargo.toml", """
            [package]
            name = "wlib"
            version = "0.1.0"
            edition = "2021"

            [dependencies]
            extdep = { path = "../../ext" }
            """)
        try write("ws/wlib/src/lib.rs", Self.library("lib v1"))
        try write("ext/Cargo.toml", "[package]\nname = \"extdep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
        try write("ext/src/lib.rs", Self.external("ext v1"))
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> URL {
        let file = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let before = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.modificationDate] as? Date
        try Data(text.utf8).write(to: file)
        // An editor's save moves the mtime forward; a coarse clock must not hide the edit.
        if let before, let now = (try FileManager.default.attributesOfItem(atPath: file.path))[.modificationDate] as? Date, now <= before {
            try FileManager.default.setAttributes([.modificationDate: before.addingTimeInterval(0.01)], ofItemAtPath: file.path)
        }
        return file
    }

    private static func copyTree(from source: URL, to destination: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: destination, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: source.path) where name != "target" {
            let from = source.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            _ = fm.fileExists(atPath: from.path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                try copyTree(from: from, to: destination.appendingPathComponent(name))
            } else {
                try fm.copyItem(at: from, to: destination.appendingPathComponent(name))
            }
        }
    }

    /// The fat build through the real shims.
    func build() throws -> FatBuild {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = "\(NSHomeDirectory())/.cargo/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
        let build = try FatBuild.run(project: project, cacheDir: cache, environment: environment, shims: ShimPaths(directory: BuiltProducts.directory))
        // What `whisker-dev build` and the server do right after the fat build.
        try Patcher(layout: layout).prepareDiffBaseline(build: build)
        return build
    }

    /// Starts the kept binary; returns it and its aslr reference.
    func launch(_ build: FatBuild) throws -> (RunningProcess, UInt64) {
        let app = try RunningProcess(executable: build.binary)
        guard let line = app.waitForLine(timeout: 20, { $0.hasPrefix("whisker: aslr_reference=0x") }),
              let reference = UInt64(line.dropFirst("whisker: aslr_reference=0x".count), radix: 16) else {
            app.terminate()
            throw CounterWorkspaceError("the app printed no aslr reference: \(app.output)")
        }
        return (app, reference)
    }

    /// Compiles, links for `reference`, writes the jump table, commits; returns the compilation and table path.
    func patch(_ patcher: Patcher, reference: UInt64, name: String) throws -> (PatchCompilation, LinkedPatch, String) {
        let compilation = try patcher.compile()
        let linked = try patcher.link(compilation, aslrReference: reference)
        let table = root.appendingPathComponent("\(name).json").path
        try Data(linked.jumpTable.json().utf8).write(to: URL(fileURLWithPath: table))
        try patcher.commit(compilation)
        return (compilation, linked, table)
    }

    deinit { try? FileManager.default.removeItem(at: root) }
}
