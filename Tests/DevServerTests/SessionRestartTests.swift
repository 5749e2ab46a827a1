@testable import DevServer
import Foundation
import HTTP
@testable import Hotpatch
import Testing

/// A session started on the journal of an earlier run: what was half done failed with
/// `server_stopped`, what was done is kept and served; journals that kept jump tables as text
/// still read.
@Suite struct SessionRestartTests {
    @Test func halfFinishedJobsFailAndFinishedOnesAreKeptAndServed() throws {
        let root = URL(fileURLWithPath: "/unused")
        let old = try #require(BuildID("b20270101-000000-aaaaaa"))
        let current = try #require(BuildID("b20270102-000000-bbbbbb"))
        let unfinished = try #require(BuildID("b20270103-000000-cccccc"))
        let reference: UInt64 = 0x5555_0000_1000
        var journal = Journal()
        journal.builds = [
            finishedBuild(old, root: root, warmUp: WarmUpRecord(state: .succeeded, durationMs: 900)),
            finishedBuild(current, root: root, warmUp: WarmUpRecord(state: .running)),
            BuildRecord(id: unfinished, state: .running, trigger: .api, createdAt: ManualClock.start, startedAt: ManualClock.start),
        ]
        journal.patches = [
            try succeededPatch(1, build: current, linkedFor: reference, root: root),
            PatchRecord(id: 2, buildId: current, state: .running, trigger: .watch, createdAt: ManualClock.start, startedAt: ManualClock.start),
            PatchRecord(id: 3, buildId: nil, state: .queued, trigger: .watch, createdAt: ManualClock.start),
        ]
        journal.devices = [DeviceRecord(
            id: "d1", name: "app", pid: 7, triple: "x86_64-unknown-linux-gnu", buildId: current, aslrReference: reference,
            slide: reference - PipelineFixtures.anchor, state: .up_to_date, registeredAt: ManualClock.start,
            lastSeenAt: ManualClock.start, lastAppliedPatch: 1)]
        journal.lastEventId = 41

        let harness = try SessionHarness(journal: journal)
        let session = harness.session

        // Unfinished: failed, and why.
        let stoppedBuild = try #require(session.buildRecord(unfinished.rawValue))
        #expect(stoppedBuild.state == .failed && stoppedBuild.error?.code == "server_stopped")
        #expect(session.buildRecord(current.rawValue)?.warmUp?.state == .failed)
        #expect(session.patches(after: 1).map(\.state) == [.failed, .failed])
        #expect(session.patches(after: 1).map(\.error?.code) == ["server_stopped", "server_stopped"])
        #expect(session.patches(after: 1).map(\.error?.message) == [
            "the server stopped while the patch compiled", "the server stopped before the patch started",
        ])
        #expect(session.visibleDevices.map(\.state) == [.lost])
        #expect(session.status().queue.isEmpty)
        #expect(harness.pipeline.calls.isEmpty, "nothing runs again by itself")
        #expect(Journal.lastEventID(in: harness.layout) == 41)

        // Finished: kept as they were, and served.
        #expect(session.buildRecord(old.rawValue)?.state == .succeeded)
        #expect(session.buildRecord(old.rawValue)?.warmUp?.durationMs == 900)
        #expect(session.currentBuild?.id == current)
        let patch = try #require(session.patchRecord(1))
        #expect(patch.state == .succeeded && patch.appliedBy == ["d1"] && patch.compilation?.patchId == 1)
        let library = try session.library(patchId: 1, deviceId: nil, aslrReference: nil)
        #expect(library.table == journal.patches[0].links[0].table)
        let json = RecordJSON(configuration: harness.configuration).patch(patch)
        #expect(json["jumpTable"] == RecordJSON.jumpTable(library.table))
        #expect(json["library"]?["linkMode"] == "shared")

        // The device polls again: connected, up to date, nothing to send.
        try session.beginPatchPoll(deviceId: "d1")
        harness.settle()
        #expect(session.deviceRecord("d1")?.state == .connected)
        #expect(session.takePendingPatches(for: "d1", after: 1) == nil)
        // A new process of the same build gets the kept patch, slid for it, without a link.
        let late = try harness.register("late", at: 0x7777_0000_1000)
        harness.settle()
        let pending = try #require(session.takePendingPatches(for: late.id, after: 0))
        #expect(pending.map(\.id) == [1])
        #expect(pending.first?.jumpTable.aslrReference == 0x7777_0000_1000)
        #expect(harness.pipeline.calls(.link).isEmpty)
        // And the next patch is numbered after the journaled ones.
        harness.pipeline.startPatchNumbers(after: 3)
        #expect(try session.enqueuePatch(trigger: .api) == 4)
        harness.settle()
        #expect(session.patchRecord(4)?.state == .succeeded)
    }

    @Test func aJournalFromBeforeTheStoreIsMigratedIntoIt() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-journal-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let layout = ProjectLayout(project: scratch.appendingPathComponent("p"), cacheDirectory: scratch.appendingPathComponent("cache"))
        try FileManager.default.createDirectory(at: layout.root, withIntermediateDirectories: true)
        var journal = Journal()
        journal.lastEventId = 41
        let legacy = layout.root.appendingPathComponent("server-journal.json")
        try JSONFile.write(journal, to: legacy)
        #expect(Journal.lastEventID(in: layout) == 41)
        #expect(!FileManager.default.fileExists(atPath: legacy.path), "moved into the store")
        #expect(Journal.file(in: layout).path.hasSuffix("/store/journal.json"))
        #expect(try Journal.load(layout)?.lastEventId == 41)
    }

    @Test func aJournalWithJumpTableTextsReadsIntoTheTableValue() throws {
        let root = URL(fileURLWithPath: "/unused")
        let build = try #require(BuildID("b20270102-000000-bbbbbb"))
        let reference: UInt64 = 0x5555_0000_1000
        var journal = Journal()
        journal.builds = [finishedBuild(build, root: root, warmUp: nil)]
        var patch = try succeededPatch(1, build: build, linkedFor: reference, root: root)
        patch.links[0].table = PipelineFixtures.jumpTable(
            patch: 1, build: build, library: patch.links[0].libraryPath, aslrReference: reference, entryPatches: true)
        journal.patches = [patch]
        let table = patch.links[0].table

        // Written the way journals were before the table was a value: its two texts, no `table`.
        var object = try #require(try JSONSerialization.jsonObject(with: JSONFile.encode(journal)) as? [String: Any])
        var patches = try #require(object["patches"] as? [[String: Any]])
        var links = try #require(patches[0]["links"] as? [[String: Any]])
        links[0]["table"] = nil
        links[0]["jumpTableJSON"] = table.json()
        links[0]["subsecondJSON"] = table.subsecondJSON()
        patches[0]["links"] = links
        object["patches"] = patches
        let legacy = try JSONSerialization.data(withJSONObject: object)
        let read = try JSONDecoder().decode(Journal.self, from: legacy)

        let restored = try #require(read.patches.first?.links.first?.table)
        #expect(restored == table)
        #expect(restored.json() == table.json() && restored.subsecondJSON() == table.subsecondJSON())
        // Written again, it keeps the value and drops the texts.
        let rewritten = String(decoding: try JSONFile.encode(read), as: UTF8.self)
        #expect(rewritten.contains("\"table\"") && !rewritten.contains("jumpTableJSON"))
    }

    @Test(arguments: [false, true])
    func theAPIsJumpTablesAreTheTextsThePipelineWrites(entryPatches: Bool) throws {
        let table = PipelineFixtures.jumpTable(
            patch: 3, build: try #require(BuildID("b20270102-000000-bbbbbb")), library: "/cache/lib \"x\".so",
            aslrReference: 0x55d0_c0a0_1234, entryPatches: entryPatches)
        for process in [table, table.resliding(aslrReference: 0x7f00_0000_0000)] {
            // Byte for byte what jansson made of the text before: same members, order and types.
            #expect(RecordJSON.jumpTable(process).jsonText == (try JSONValue.parse(process.json())).jsonText)
            #expect(RecordJSON.subsecondJumpTable(process).jsonText == (try JSONValue.parse(process.subsecondJSON())).jsonText)
        }
    }

    private func finishedBuild(_ id: BuildID, root: URL, warmUp: WarmUpRecord?) -> BuildRecord {
        var record = BuildRecord(
            id: id, state: .succeeded, trigger: .startup, createdAt: ManualClock.start, startedAt: ManualClock.start,
            finishedAt: ManualClock.at(.seconds(20)))
        record.build = PipelineFixtures.fatBuild(id, root: root)
        record.phases = PipelineFixtures.buildPhases
        record.warmUp = warmUp
        return record
    }

    private func succeededPatch(_ id: Int, build: BuildID, linkedFor reference: UInt64, root: URL) throws -> PatchRecord {
        var record = PatchRecord(
            id: id, buildId: build, state: .succeeded, trigger: .watch, createdAt: ManualClock.start,
            startedAt: ManualClock.start, finishedAt: ManualClock.at(.milliseconds(300)))
        record.compilation = try PipelineFixtures.storedCompilation(build: build, patch: id, root: root)
        let library = root.appendingPathComponent("patches/\(id)/libwhisker-patch-\(id).so").path
        record.links = [LinkRecord(
            aslrReference: reference, libraryPath: library, sha256: String(repeating: "a", count: 64), size: 4096,
            table: PipelineFixtures.jumpTable(patch: id, build: build, library: library, aslrReference: reference),
            plan: try PipelineFixtures.plan(patch: id, build: build, library: library, aslrReference: reference, mode: .shared, root: root))]
        record.appliedBy = ["d1"]
        return record
    }
}
