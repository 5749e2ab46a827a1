import Foundation
import Testing
@testable import Hotpatch

/// The store's writes against a real full disk: a tmpfs of a few hundred KiB mounted for the
/// test (root only; CI runs as root) and filled until the kernel says ENOSPC. A record write and
/// a commit's batch then fail as `disk_full` and change nothing stored; with space again they
/// go through.
@Suite(.serialized) struct ProjectStoreDiskFullTests {
    /// A scratch store on its own small tmpfs, unmounted when released.
    final class SmallDisk: @unchecked Sendable {
        let root: URL
        let layout: ProjectLayout
        let mounted: Bool

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-full-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            mounted = Self.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", root.path]) == 0
            let project = root.appendingPathComponent("project")
            try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
            layout = ProjectLayout(project: project, cacheDirectory: root.appendingPathComponent("cache"))
        }

        deinit {
            if mounted { _ = Self.run("/usr/bin/umount", ["-l", root.path]) }
            try? FileManager.default.removeItem(at: root)
        }

        /// Fills the file system; the filler file, to remove for space again.
        func fill() -> URL {
            let filler = root.appendingPathComponent("filler")
            let fd = open(filler.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            defer { close(fd) }
            var chunk = [UInt8](repeating: 0, count: 4096)
            while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
            chunk = [0]
            while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, 1) }) == 1 {}
            return filler
        }

        static func run(_ executable: String, _ arguments: [String]) -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return -1 }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    static var isRoot: Bool { getuid() == 0 }

    @Test(.enabled(if: isRoot || ProcessInfo.processInfo.environment["CI"] != nil, "mounting a tmpfs for the full disk needs root"))
    func aFullDiskFailsEveryWriteAsDiskFullAndChangesNoRecord() throws {
        let disk = try SmallDisk()
        try #require(disk.mounted, "mount -t tmpfs failed")
        let store = ProjectStore(disk.layout)
        var state = ProjectState(project: disk.layout.projectDirectory.path)
        state.lastPatchId = 3
        try store.write(state, for: .projectState)
        let statics = PatchStaticsRecord(buildId: "b1", libraries: ["_ZN1a1XE": "/lib/one.so"])
        try store.write(statics, for: .patchStatics)
        let before = try store.recordFiles.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }

        let filler = disk.fill()
        var bigger = state
        bigger.lastPatchId = 4
        // The records are larger than a page now: no write can fit.
        bigger.sources = (0..<200).map { TrackedCrate(crateName: "crate\($0)", crateTypes: ["lib"], captureFile: "crate\($0)-lib.json", isBinary: false, files: []) }

        // One record.
        #expect(throws: FileError.self) { try store.write(bigger, for: .projectState) }
        do {
            try store.write(bigger, for: .projectState, durable: true)
            Issue.record("a write on a full disk succeeded")
        } catch let error as FileError {
            #expect(error.code == "disk_full" && error.errorKind == .environment, "\(error)")
            #expect(error.message.contains("the disk is full"), "\(error.message)")
        }

        // A commit's batch: the first record stages, the second finds no space; nothing moves.
        let batch = store.batch()
        do {
            try batch.stage(PatchStaticsRecord(buildId: "b1", libraries: [:]), for: .patchStatics)
            try batch.stage(bigger, for: .projectState)
            try batch.commit()
            Issue.record("a batch on a full disk was committed")
        } catch let error as FileError {
            #expect(error.code == "disk_full", "\(error)")
        }
        let after = try store.recordFiles.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        #expect(after == before, "every record as it was")
        let temporaries = try FileManager.default.contentsOfDirectory(atPath: store.directory.path).filter { $0.contains(AtomicFile.temporaryMarker) }
        #expect(temporaries.isEmpty, "\(temporaries)")

        // Space again: the same batch goes through, every record at once.
        try FileManager.default.removeItem(at: filler)
        let again = store.batch()
        try again.stage(PatchStaticsRecord(buildId: "b1", libraries: [:]), for: .patchStatics)
        try again.stage(bigger, for: .projectState)
        #expect(try store.read(.projectState) == state, "staged is not stored")
        try again.commit()
        #expect(try store.read(.projectState) == bigger)
        #expect(try store.read(.patchStatics)?.libraries == [:])
    }

    @Test func aDiscardedBatchLeavesNothingBehind() throws {
        let disk = try SmallDisk()
        let store = ProjectStore(disk.layout)
        let state = ProjectState(project: disk.layout.projectDirectory.path)
        try store.write(state, for: .projectState, durable: true)
        do {
            let batch = store.batch()
            var next = state
            next.lastPatchId = 9
            try batch.stage(next, for: .projectState)
            // Dropped without a commit (an error between stage and commit).
        }
        #expect(try store.read(.projectState) == state)
        let names = try FileManager.default.contentsOfDirectory(atPath: store.directory.path)
        #expect(names == ["project-state.json"], "\(names)")
    }

    @Test func temporariesOfAKilledWriterAreRemovedAndThoseOfALiveOneKept() throws {
        let disk = try SmallDisk()
        let store = ProjectStore(disk.layout)
        try store.write(ProjectState(project: disk.layout.projectDirectory.path), for: .projectState)
        let dead = store.directory.appendingPathComponent("journal.json\(AtomicFile.temporaryMarker)4194399-0a1b2c3d")
        let live = store.directory.appendingPathComponent("journal.json\(AtomicFile.temporaryMarker)\(getpid())-0a1b2c3d")
        for file in [dead, live] { try Data("{\"format\": 1, \"val".utf8).write(to: file) }
        store.removeAbandonedWrites()
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: store.directory.path))
        #expect(names == ["project-state.json", live.lastPathComponent], "\(names)")
    }
}
