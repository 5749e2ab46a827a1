import Foundation

/// **Test-only** pauses at named points of a job, so that an end-to-end test can kill the server
/// (`kill -9`) or fill its disk at an exact moment instead of racing a timer. Inert unless the
/// environment variable `WHISKER_TEST_HOOKS` names a directory: without it ``pause(at:child:)``
/// returns at once, reading nothing. Never set it outside tests.
///
/// Protocol (all files in that directory):
/// - the test arms a point by creating an empty file named after it (`rustc`, `link`, …);
/// - the first time the process reaches an armed point it removes that file (one shot), writes
///   `<point>.paused` holding the pid of the point's child when there is one (which runs on: a
///   killed server's children do), prints `whisker test hook: paused at <point>` on stderr, and
///   waits;
/// - the test resumes it by creating `<point>.resume` (removed on the way), or kills the process.
public enum TestHooks {
    /// Where a job can be paused.
    public enum Point: String, Sendable, CaseIterable {
        /// The fat build's `cargo build`, just started (child: cargo), before its output is read.
        case cargo
        /// A patch's rustc replay, just started (child: rustc). The build's warm-up replays too:
        /// arm it after the warm-up.
        case rustc
        /// A patch's link, the linker just started (child: the linker or its driver), before the
        /// session records the library.
        case link
        /// A patch's commit, before any store record is written.
        case commit
        /// A patch library requested over HTTP, before its bytes are read (the request waits).
        case download
    }

    /// `WHISKER_TEST_HOOKS`, read once; nil (the hooks are inert) when unset or empty.
    static let directory: String? = {
        guard let value = getenv("WHISKER_TEST_HOOKS").map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return value
    }()

    /// Pauses here if the test armed `point` (see the type); `child`: the process started for it.
    public static func pause(at point: Point, child: Int32? = nil) {
        guard let directory else { return }
        let armed = "\(directory)/\(point.rawValue)"
        // unlink succeeds for exactly one caller: the point fires once per arming.
        guard unlink(armed) == 0 else { return }
        FileManager.default.createFile(atPath: armed + ".paused", contents: Data((child.map(String.init) ?? "").utf8))
        FileHandle.standardError.write(Data("whisker test hook: paused at \(point.rawValue)\(child.map { " (child \($0))" } ?? "")\n".utf8))
        let resume = armed + ".resume"
        while unlink(resume) != 0 { usleep(10_000) }
    }
}
