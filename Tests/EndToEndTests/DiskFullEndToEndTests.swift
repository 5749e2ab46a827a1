import Foundation
import Testing

/// Issue 14's full disk, live: the server's cache directory is a small tmpfs of its own; a patch
/// is paused (test-only hook) right before its commit writes the project store, the tmpfs is
/// filled until the kernel answers ENOSPC, and the patch goes on. It fails with `disk_full`; not
/// one stored record changes (the commit stages every record first), the journal on disk stays
/// whole, the earlier patch's library and the build's binary download byte-identical, the app
/// never gets the failed patch; once space is freed the next save patches the app again.
@Suite(.serialized) struct DiskFullEndToEndTests {
    /// A tmpfs of its own needs root (`mount -t tmpfs`); CI runs as root.
    static var canMountTmpfs: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/mount") }

    @Test(.enabled(if: canMountTmpfs || ProcessInfo.processInfo.environment["CI"] != nil, "mounting a tmpfs for the full disk needs root"))
    func aFullDiskFailsThePatchCleanlyAndChangesNothingStored() throws {
        let workspace = try CounterWorkspace()
        let cache = workspace.root.appendingPathComponent("small-disk")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let mount = try Self.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=768m", "tmpfs", cache.path])
        try #require(mount.status == 0, "mount: \(mount.output)")
        defer { _ = try? Self.run("/usr/bin/umount", ["-l", cache.path]) }

        let hooks = try TestHookDirectory(in: workspace.root)
        let server = try DevServerProcess(
            workspace: workspace, environment: hooks.environment.merging(["WHISKER_CACHE_DIR": cache.path]) { $1 })
        defer { _ = server.interrupt() }
        let build = try server.waitForBuild()
        #expect(build.binary.hasPrefix(cache.path), "the build lives on the small disk: \(build.binary)")
        let (app, _) = try server.launchDevice(build: build)
        defer { app.terminate() }
        try #require(app.waitForLine { $0.contains("registered with") } != nil, "\(app.output.suffix(5))")
        try workspace.setMessage(from: "hello from counter", to: "before the full disk")
        try #require(app.waitForLine(timeout: 120) { $0.hasSuffix(": before the full disk") } != nil, "\(app.output.suffix(6))")
        let binary = try server.request("GET", "/api/builds/\(build.id)/binary")
        let library = try server.request("GET", "/api/patches/1/library")
        #expect(binary.status == 200 && library.status == 200)

        // Patch 2 paused before its commit; the disk fills up meanwhile.
        hooks.arm("commit")
        try workspace.setMessage(from: "before the full disk", to: "after the full disk")
        _ = try hooks.waitUntilPaused("commit")
        let store = try #require(FileManager.default.enumerator(atPath: cache.path)?.compactMap { $0 as? String }
            .first { $0.hasSuffix("/store/project-state.json") }.map { cache.appendingPathComponent($0).deletingLastPathComponent() })
        let recordsBefore = try Self.records(in: store)
        #expect(recordsBefore.keys.contains("function-baseline.json"), "\(recordsBefore.keys.sorted())")
        let filler = cache.appendingPathComponent("filler")
        let written = try Self.fill(filler.path)
        #expect(written > 0)
        hooks.resume("commit")

        let deadline = Date().addingTimeInterval(60)
        var patch: [String: Any]?
        repeat {
            patch = try server.request("GET", "/api/patches/2").json
            if patch?["state"] as? String != "running" { break }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        let error = patch?["error"] as? [String: Any]
        #expect(patch?["state"] as? String == "failed" && error?["code"] as? String == "disk_full", "\(patch ?? [:])")
        #expect((error?["message"] as? String)?.contains("the disk is full") == true, "\(error ?? [:])")
        #expect(patch?["library"] == nil, "a patch that failed lists no library")

        // Nothing stored changed: every record byte for byte (the journal may not have been
        // written since, but what is on disk is whole), libraries and binary the same.
        let recordsAfter = try Self.records(in: store)
        for (name, bytes) in recordsBefore where name != "journal.json" && !name.hasPrefix("running-") {
            #expect(recordsAfter[name] == bytes, "\(name) changed")
        }
        let journal = try #require(recordsAfter["journal.json"])
        #expect((try? JSONSerialization.jsonObject(with: journal)) != nil, "the journal on disk is whole")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "staged records were removed: \(leftovers)")
        #expect(try server.request("GET", "/api/builds/\(build.id)/binary").body == binary.body)
        #expect(try server.request("GET", "/api/patches/1/library").body == library.body)
        #expect(try server.request("GET", "/api/patches/2/library").status == 409)
        #expect(!app.output.contains { $0.contains("applied patch 2") }, "the app never got the failed patch")
        #expect(try server.request("GET", "/healthz").status == 200)

        // Space again: the next save patches the app, and the journal catches up.
        try FileManager.default.removeItem(at: filler)
        let mark = app.output.count
        try workspace.setMessage(from: "after the full disk", to: "after the disk was freed")
        #expect(app.waitForLine(after: mark, timeout: 120) { $0.hasSuffix(": after the disk was freed") } != nil, "\(app.output.suffix(6))")
        let patches = try server.request("GET", "/api/patches").json?["patches"] as? [[String: Any]] ?? []
        #expect(patches.map { $0["state"] as? String } == ["succeeded", "failed", "succeeded"], "\(patches.map { $0["state"] ?? "" })")
        let journalDeadline = Date().addingTimeInterval(10)
        var journaled = false
        while !journaled && Date() < journalDeadline {
            let text = (try? String(contentsOf: store.appendingPathComponent("journal.json"), encoding: .utf8)) ?? ""
            journaled = text.contains("disk_full")
            if !journaled { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(journaled, "the failure is journaled once there is space")
    }

    /// Every file in the store, by name.
    static func records(in store: URL) throws -> [String: Data] {
        var records: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: store.path) {
            records[name] = FileManager.default.contents(atPath: store.appendingPathComponent(name).path)
        }
        return records
    }

    /// Writes zeros to `path` until the file system is full (ENOSPC); the bytes written.
    static func fill(_ path: String) throws -> Int {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CounterWorkspaceError("cannot create \(path)") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written > 0 { total += written; continue }
            guard written < 0, errno == EINTR else { break }
        }
        // Small writes too, so not even a page is left.
        let byte: [UInt8] = [0]
        while byte.withUnsafeBytes({ write(fd, $0.baseAddress, 1) }) == 1 { total += 1 }
        #expect(errno == ENOSPC, "filled until ENOSPC, got errno \(errno)")
        return total
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
