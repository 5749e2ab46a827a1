import Foundation

/// Finds the executables `swift build` produced (whisker-dev and the shims) from inside a test run:
/// they sit next to the test bundle in the build directory.
enum BuiltProducts {
    static let directory: URL = {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL)
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        for dir in candidates where fm.isExecutableFile(atPath: dir.appendingPathComponent("whisker-dev").path) {
            return dir
        }
        return candidates[0]
    }()

    static var whiskerDev: String { directory.appendingPathComponent("whisker-dev").path }

    /// The repository root (for `examples/` and `runtime/`).
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
}
