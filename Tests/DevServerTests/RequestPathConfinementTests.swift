@testable import DevServer
import Foundation
import HTTP
import Testing

/// A path a request names (`POST /api/diffs`'s `old` and `new`, ids in `/api/symbols` and build
/// routes) never makes the server read outside the project, its target dir and the cache dir:
/// `..` climbing out, absolute paths elsewhere, symlinks (a file or a directory) pointing out,
/// NUL bytes — each a clear 4xx JSON error, and the diff never runs (the pipeline records every
/// file it was asked to compare). Outside sits a real binary, so a leak would be a 200, not a 404.
@Suite struct RequestPathConfinementTests {
    /// A served session with real rustc-built binaries inside and outside its roots.
    final class Fixture {
        let harness: SessionHarness
        let app: DevServerApp
        let scratch: String
        let project: String
        let cache: String
        let target: String

        init() throws {
            harness = try SessionHarness()
            scratch = harness.scratch.path
            project = harness.configuration.project.path
            cache = harness.configuration.cacheDirectory.path
            target = harness.layout.targetDirectory.path
            let manager = FileManager.default
            for directory in [scratch + "/outside/dir", project + "/bins", cache + "/bins", target + "/debug"] {
                try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            let binaries = try Self.binaries.get()
            try manager.copyItem(atPath: binaries.old, toPath: project + "/bins/old.bin")
            try manager.copyItem(atPath: binaries.new, toPath: project + "/bins/new.bin")
            for copy in [scratch + "/outside/secret.bin", scratch + "/outside/dir/secret.bin", cache + "/bins/cached.bin", target + "/debug/app"] {
                try manager.copyItem(atPath: project + "/bins/new.bin", toPath: copy)
            }
            try manager.createSymbolicLink(atPath: project + "/link-out", withDestinationPath: scratch + "/outside/secret.bin")
            try manager.createSymbolicLink(atPath: project + "/dir-out", withDestinationPath: scratch + "/outside/dir")
            try manager.createSymbolicLink(atPath: project + "/link-in", withDestinationPath: project + "/bins/old.bin")
            try manager.createSymbolicLink(atPath: project + "/dangling", withDestinationPath: scratch + "/outside/missing.bin")
            try harness.build()
            app = DevServerApp(configuration: DevServerConfiguration(port: 0), routes: [ProjectRoutes(session: harness.session)])
            try app.start()
        }

        deinit {
            app.shutdown()
        }

        /// Two small binaries rustc builds once for all the cases: `new` has a function `old` lacks.
        static let binaries: Result<(old: String, new: String), any Error> = Result {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-confinement-\(getpid())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try compile("fn main() { println!(\"old\"); }", to: directory + "/old.bin")
            try compile("fn main() { helper(); }\n#[inline(never)] fn helper() { println!(\"new\"); }", to: directory + "/new.bin")
            return (directory + "/old.bin", directory + "/new.bin")
        }

        static func compile(_ source: String, to output: String) throws {
            let file = output + ".rs"
            try source.write(toFile: file, atomically: true, encoding: .utf8)
            let rustc = Process()
            rustc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            rustc.arguments = ["rustc", "-Cdebuginfo=0", "--crate-name", "confinement", "-o", output, file]
            try rustc.run()
            rustc.waitUntilExit()
            guard rustc.terminationStatus == 0 else { throw TestSocket.Failure(description: "rustc failed for \(output)") }
        }

        /// `POST /api/diffs` of `old` and `new`, written as the JSON strings they are.
        func diff(_ old: String, _ new: String) throws -> TestResponse {
            let body: JSONValue = ["old": .string(old), "new": .string(new)]
            return try TestHTTPClient.post(port: app.port, "/api/diffs", json: body.jsonText)
        }

        /// `reference` with the fixture's directories filled in (`$SCRATCH`, `$PROJECT`, …).
        func expand(_ reference: String) -> String {
            reference.replacingOccurrences(of: "$SCRATCH", with: scratch).replacingOccurrences(of: "$PROJECT", with: project)
                .replacingOccurrences(of: "$CACHE", with: cache).replacingOccurrences(of: "$TARGET", with: target)
        }
    }

    /// Refused references, with the status and code each gets. (A name with no `/` that does
    /// not start with `.` is a build id, hence `./link-out`.)
    static let refused: [(reference: String, status: Int, code: String)] = [
        ("../outside/secret.bin", 403, "path_outside_project"),
        ("./../outside/secret.bin", 403, "path_outside_project"),
        ("bins/../../outside/secret.bin", 403, "path_outside_project"),
        ("bins/../../../../../../../../etc/passwd", 403, "path_outside_project"),
        ("$SCRATCH/outside/secret.bin", 403, "path_outside_project"),
        ("$PROJECT/../outside/secret.bin", 403, "path_outside_project"),
        ("/etc/passwd", 403, "path_outside_project"),
        ("/proc/self/environ", 403, "path_outside_project"),
        ("/nonexistent/anywhere.bin", 403, "path_outside_project"),
        ("./link-out", 403, "path_outside_project"),
        ("dir-out/secret.bin", 403, "path_outside_project"),
        // The kernel applies `..` after following the link: dir-out/.. is outside/, not the project.
        ("dir-out/../secret.bin", 403, "path_outside_project"),
        ("$PROJECT/link-out", 403, "path_outside_project"),
        ("./dangling", 404, "file_not_found"),
        ("bins/missing.bin", 404, "file_not_found"),
        ("bins/old.bin\u{0}/../../../outside/secret.bin", 400, "invalid_path"),
        ("./bins", 400, "not_a_file"),
        ("./", 400, "not_a_file"),
    ]

    @Test(arguments: refused.indices)
    func aPathOutsideTheRootsIsRefusedAndNothingIsRead(case index: Int) throws {
        let (reference, status, code) = Self.refused[index]
        let fixture = try Fixture()
        let named = fixture.expand(reference)
        for (old, new) in [(named, "bins/new.bin"), ("bins/old.bin", named)] {
            let response = try fixture.diff(old, new)
            #expect(response.status == status, "\(reference): \(response.status) \(response.text.prefix(300))")
            #expect(response.errorCode == code, "\(reference): \(response.text.prefix(300))")
            #expect(response.errorMessage?.isEmpty == false)
        }
        #expect(fixture.harness.pipeline.diffs.isEmpty, "compared \(fixture.harness.pipeline.diffs)")
    }

    @Test func pathsInsideTheProjectTargetAndCacheAreComparedByTheirRealPaths() throws {
        let fixture = try Fixture()
        let old = fixture.project + "/bins/old.bin"
        let new = fixture.project + "/bins/new.bin"
        let allowed: [(old: String, new: String, compared: (String, String))] = [
            ("bins/old.bin", "bins/new.bin", (old, new)),
            ("./bins/../bins/old.bin", "$PROJECT/bins/new.bin", (old, new)),
            ("./link-in", "bins/new.bin", (old, new)),
            ("bins/old.bin", "$CACHE/bins/cached.bin", (old, fixture.cache + "/bins/cached.bin")),
            ("bins/old.bin", "$TARGET/debug/app", (old, fixture.target + "/debug/app")),
        ]
        for (index, entry) in allowed.enumerated() {
            let response = try fixture.diff(fixture.expand(entry.old), fixture.expand(entry.new))
            #expect(response.status == 200, "\(entry.old) → \(entry.new): \(response.status) \(response.text.prefix(300))")
            #expect(try response.json()["added"]?.intValue ?? 0 >= 1, "new.bin has a helper old.bin lacks")
            let compared = fixture.harness.pipeline.diffs
            #expect(compared.count == index + 1)
            let last = try #require(compared.last)
            #expect(last.old == PathConfinement.realPath(entry.compared.0), "the real path is what gets read")
            #expect(last.new == PathConfinement.realPath(entry.compared.1), "the real path is what gets read")
        }
    }

    @Test(arguments: [
        "/api/symbols?build=..%2F..%2Foutside%2Fsecret.bin",
        "/api/symbols?build=%2Fetc%2Fpasswd",
        "/api/builds/%2E%2E/log",
        "/api/builds/..%2F..%2F..%2Fetc%2Fpasswd/log",
        "/api/builds/%2E%2E/binary",
    ])
    func idsThatLookLikePathsNameNoBuild(target: String) throws {
        let fixture = try Fixture()
        let response = try TestHTTPClient.get(port: fixture.app.port, target)
        #expect(response.status == 404, "\(target): \(response.status) \(response.text.prefix(300))")
        #expect(response.errorCode == "build_not_found" || response.errorCode == "not_found", "\(target): \(response.text.prefix(300))")
        #expect(!response.text.contains("root:"), "nothing of /etc/passwd")
    }
}
