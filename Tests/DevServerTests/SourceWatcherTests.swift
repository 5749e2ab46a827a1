import DevServer
import Foundation
import Testing

/// The watcher against real files and real inotify (and the polling fallback).
@Suite(.serialized) struct SourceWatcherTests {
    final class Reports: @unchecked Sendable {
        private let lock = NSLock()
        private var batches: [Set<String>] = []
        func add(_ batch: Set<String>) { lock.lock(); batches.append(batch); lock.unlock() }
        var all: [Set<String>] { lock.lock(); defer { lock.unlock() }; return batches }

        func wait(for count: Int, timeout: TimeInterval = 5) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if all.count >= count { return true }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return all.count >= count
        }
    }

    func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-watch-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.resolvingSymlinksInPath()
    }

    func write(_ text: String, to url: URL) throws { try Data(text.utf8).write(to: url) }

    @Test(arguments: ["inotify", "poll"])
    func anEditIsReportedOnceAfterTheDebounce(mode: String) throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("main.rs")
        try write("fn main() {}\n", to: file)
        let reports = Reports()
        let watcher = SourceWatcher(paths: [file.path], environment: mode == "poll" ? ["WHISKER_WATCH": "poll"] : [:]) { reports.add($0) }
        defer { watcher.stop() }
        #expect(watcher.isUsingInotify == (mode == "inotify"))
        Thread.sleep(forTimeInterval: 0.1)
        try write("fn main() { println!(\"edited\"); }\n", to: file)
        #expect(reports.wait(for: 1))
        Thread.sleep(forTimeInterval: 0.6)
        #expect(reports.all == [[file.path]])
    }

    @Test func aBurstOfSavesCoalescesIntoOneReport() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("lib.rs")
        try write("v0\n", to: file)
        let reports = Reports()
        let watcher = SourceWatcher(paths: [file.path], debounce: .milliseconds(300)) { reports.add($0) }
        defer { watcher.stop() }
        for round in 1...20 { try write("v\(round)\n", to: file) }
        #expect(reports.wait(for: 1))
        Thread.sleep(forTimeInterval: 0.8)
        #expect(reports.all.count == 1)
    }

    @Test func saveByRenameIsSeenAndSameBytesAreNot() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("main.rs")
        try write("same\n", to: file)
        let reports = Reports()
        let watcher = SourceWatcher(paths: [file.path]) { reports.add($0) }
        defer { watcher.stop() }

        // Same content written again (and a touch): nothing to patch.
        try write("same\n", to: file)
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: file.path)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(reports.all.isEmpty)

        // An editor's save: write a temp file, rename it over the original.
        let temporary = directory.appendingPathComponent(".main.rs.swp")
        try write("changed\n", to: temporary)
        #expect(rename(temporary.path, file.path) == 0)
        #expect(reports.wait(for: 1))
        #expect(reports.all.first == [file.path])
    }

    @Test func aNewModuleFileBesideTheSourcesIsAChange() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("main.rs")
        try write("mod extra;\n", to: file)
        let reports = Reports()
        let watcher = SourceWatcher(paths: [file.path]) { reports.add($0) }
        defer { watcher.stop() }
        let module = directory.appendingPathComponent("extra.rs")
        try write("pub fn extra() {}\n", to: module)
        #expect(reports.wait(for: 1))
        #expect(reports.all.first?.contains(module.path) == true)
    }

    @Test func stopIsPromptAndFinal() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("main.rs")
        try write("a\n", to: file)
        let reports = Reports()
        let watcher = SourceWatcher(paths: [file.path]) { reports.add($0) }
        let start = Date()
        watcher.stop()
        watcher.stop()
        #expect(Date().timeIntervalSince(start) < 1)
        try write("b\n", to: file)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(reports.all.isEmpty)
    }
}
