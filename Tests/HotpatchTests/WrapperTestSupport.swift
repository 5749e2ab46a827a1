import Foundation

/// A scratch directory for capture/build/thin-build tests, removed when the value is released.
final class CaptureScratch: @unchecked Sendable {
    let url: URL

    init(_ label: String = "whisker-capture-test") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
            .resolvingSymlinksInPath()
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `text` at `relative` (creating directories); returns the file's URL.
    @discardableResult
    func write(_ relative: String, _ text: String, executable: Bool = false) throws -> URL {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path) }
        return file
    }

    func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A rustc command line shaped like the ones cargo 1.95 passes (bin crate of a workspace).
let cargoStyleBinArguments: [String] = [
    "--crate-name", "app", "--edition=2021", "src/main.rs",
    "--error-format=json", "--json=diagnostic-rendered-ansi,artifacts,future-incompat",
    "--crate-type", "bin", "--emit=dep-info,link",
    "-C", "embed-bitcode=no", "-C", "debuginfo=2",
    "--check-cfg", "cfg(docsrs,test)", "--check-cfg", "cfg(feature, values())",
    "-C", "metadata=7cc745fd54fc02f2", "-C", "extra-filename=-609f57ec79b3927d",
    "--out-dir", "/proj/target/debug/deps",
    "-C", "linker=/opt/whisker/whisker-linker-shim",
    "-C", "incremental=/proj/target/debug/incremental",
    "-L", "dependency=/proj/target/debug/deps",
    "--extern", "mylib=/proj/target/debug/deps/libmylib-2f5e8b232ccb2e87.rlib",
]
