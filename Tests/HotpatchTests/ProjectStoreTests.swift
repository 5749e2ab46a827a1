import Foundation
import Testing
@testable import Hotpatch

/// The project store: one versioned format, records from before the store migrated once, and
/// nothing guessed when a record can't be read.
@Suite struct ProjectStoreTests {
    final class Scratch: @unchecked Sendable {
        let root: URL
        let layout: ProjectLayout
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-store-\(UUID().uuidString.prefix(8))")
            let project = root.appendingPathComponent("project")
            try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
            layout = ProjectLayout(project: project, cacheDirectory: root.appendingPathComponent("cache"))
            try FileManager.default.createDirectory(at: layout.root, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: root) }
    }

    @Test func recordsRoundTripInTheVersionedEnvelope() throws {
        let scratch = try Scratch()
        let store = ProjectStore(scratch.layout)
        #expect(try store.read(.projectState) == nil)
        var state = ProjectState(project: scratch.layout.projectDirectory.path)
        state.lastPatchId = 7
        try store.write(state, for: .projectState)
        #expect(try store.read(.projectState) == state)
        let file = try #require(FileManager.default.contents(atPath: store.file(.projectState).path))
        let json = try #require(try JSONSerialization.jsonObject(with: file) as? [String: Any])
        #expect(json["format"] as? Int == ProjectStore.format)
        #expect((json["value"] as? [String: Any])?["lastPatchId"] as? Int == 7)
        #expect(store.file(.projectState).path.hasPrefix(scratch.layout.root.appendingPathComponent("store").path))
    }

    @Test func aRecordFromBeforeTheStoreIsMigratedOnceAndItsOldFileRemoved() throws {
        let scratch = try Scratch()
        let legacy = scratch.layout.root.appendingPathComponent("entry-patched.json")
        try Data(#"{"buildId": "b1", "names": ["f", "g"]}"#.utf8).write(to: legacy)
        #expect(try EntryPatchedFunctions.load(scratch.layout, buildId: "b1") == ["f", "g"])
        #expect(!FileManager.default.fileExists(atPath: legacy.path), "migrated, old file gone")
        #expect(FileManager.default.fileExists(atPath: ProjectStore(scratch.layout).file(.entryPatched).path))
        #expect(try EntryPatchedFunctions.load(scratch.layout, buildId: "b1") == ["f", "g"], "read back from the store")
        #expect(try EntryPatchedFunctions.load(scratch.layout, buildId: "b2").isEmpty, "another build starts empty")

        // state.json too, through the public API the pipeline uses.
        let oldState = scratch.layout.root.appendingPathComponent("state.json")
        try JSONFile.write(ProjectState(project: "/p"), to: oldState)
        #expect(try ProjectState.load(scratch.layout).project == "/p")
        #expect(!FileManager.default.fileExists(atPath: oldState.path))
    }

    @Test func aCorruptOrNewerRecordIsAnErrorNotADefault() throws {
        let scratch = try Scratch()
        let store = ProjectStore(scratch.layout)
        let file = store.file(.patchStatics)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: file)
        #expect(throws: FileError.self) { try PatchStaticsRecord.load(scratch.layout, buildId: "b1") }
        try Data(#"{"format": 99, "value": {}}"#.utf8).write(to: file)
        do {
            _ = try store.read(.patchStatics)
            Issue.record("a newer format was read")
        } catch let error as StoreError {
            #expect(error.code == "store_format_unsupported" && error.message.contains("99"))
        }
        // Nothing was overwritten by the failed reads.
        #expect(try Data(contentsOf: file) == Data(#"{"format": 99, "value": {}}"#.utf8))
    }
}
