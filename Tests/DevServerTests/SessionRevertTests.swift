@testable import DevServer
import Foundation
@testable import Hotpatch
import Testing

/// Reverts on a scripted pipeline: a new record serving the earlier patch's table (or the fat
/// build's empty one) to every device, without a compile or link of its own; late devices catch up
/// through it; unknown ids and unrevertable patches are refused.
@Suite struct SessionRevertTests {
    @Test(arguments: [PatchLinkMode.perDevice, .shared])
    func aRevertServesTheEarlierTableAndThenTheFatBuildsToEveryDevice(linkMode: PatchLinkMode) throws {
        let harness = try SessionHarness(linkMode: linkMode)
        let session = harness.session
        let build = try harness.build()
        let reference: UInt64 = 0x5555_0000_1000
        let device = try harness.register("app", at: reference).id
        harness.settle()
        for _ in 1...2 {
            try session.enqueuePatch(trigger: .watch)
            harness.settle()
        }
        let linked = harness.pipeline.calls(.link).count
        harness.clearEvents()

        // Revert patch 2: patch 1's library and table, renumbered; nothing compiled or linked.
        let revert = try session.enqueueRevert(of: 2)
        harness.settle()
        let record = try #require(session.patchRecord(revert))
        #expect(revert == 3 && record.state == .succeeded && record.trigger == .revert, "\(record)")
        #expect(record.revertOf == 2 && record.revertTo == 1)
        #expect(harness.pipeline.calls(.compile).count == 2 && harness.pipeline.calls(.link).count == linked)
        let one = try #require(session.patchRecord(1)?.link(for: reference))
        let served = try #require(record.link(for: reference))
        #expect(served.libraryPath == one.libraryPath && served.sha256 == one.sha256)
        #expect(served.table.entries == one.table.entries && served.table.patchId == revert)
        #expect(harness.events(ofPatch: revert) == ["patch 3 queued", "patch 3 started", "patch 3 succeeded"])
        #expect(harness.events.contains("jump-table 3 \(device)"))
        #expect(session.takePendingPatches(for: device, after: 2)?.map(\.id) == [3])

        // Back to the fat build: the build's first patch reverted, an empty table.
        let fat = try session.enqueueRevertToFatBuild(build.rawValue)
        harness.settle()
        let fatRecord = try #require(session.patchRecord(fat))
        #expect(fatRecord.state == .succeeded && fatRecord.revertOf == 1 && fatRecord.revertTo == nil)
        let empty = try #require(fatRecord.link(for: reference))
        #expect(empty.table.entries.isEmpty && empty.table.entryPatches.isEmpty && empty.libraryPath == one.libraryPath)
        #expect(empty.plan.library.routedFunctions == 0)

        // Reverting the revert goes back to the table it replaced (patch 3's: patch 1's code).
        let undo = try session.enqueueRevert(of: fat)
        harness.settle()
        #expect(session.patchRecord(undo)?.revertTo == 3)
        #expect(session.patchRecord(undo)?.link(for: reference)?.table.entries == one.table.entries)

        // A device started now gets every record in order, reverts linked for its slide too.
        let lateReference: UInt64 = 0x5555_0009_0000
        let late = try harness.register("late", at: lateReference).id
        harness.settle()
        let pending = try #require(session.takePendingPatches(for: late, after: 0))
        #expect(pending.map(\.id) == [1, 2, 3, fat, undo])
        #expect(pending.allSatisfy { $0.jumpTable.aslrReference == lateReference })
        #expect(pending[3].jumpTable.entries.isEmpty && pending[2].jumpTable.entries == pending[0].jumpTable.entries)
        #expect(session.patchRecord(fat)?.failedBy.isEmpty == true)
    }

    @Test func unknownIdsAndUnrevertablePatchesAreRefused() throws {
        let harness = try SessionHarness()
        let session = harness.session
        let build = try harness.build()
        #expect(identifier { try session.enqueueRevertToFatBuild(build.rawValue) } == "nothing_to_revert")
        harness.pipeline.fail(.compile(patch: 1))
        try session.enqueuePatch(trigger: .watch)
        harness.settle()
        #expect(session.patchRecord(1)?.state == .failed)
        #expect(identifier { try session.enqueueRevert(of: 1) } == "patch_not_revertable")
        #expect(identifier { try session.enqueueRevert(of: 99) } == "patch_not_found")
        #expect(identifier { try session.enqueueRevertToFatBuild("b-none") } == "build_not_found")
        #expect(session.patches(after: 0).count == 1, "no record for a refused revert")
    }

    @Test func aProcessTheEarlierPatchCannotBeLinkedForIsToldAndTheOthersStillRevert() throws {
        let harness = try SessionHarness(linkMode: .perDevice)
        let session = harness.session
        try harness.build()
        let first = try harness.register("first", at: 0x5555_0000_1000).id
        harness.settle()
        for _ in 1...2 {
            try session.enqueuePatch(trigger: .watch)
            harness.settle()
        }
        // The second device never got patch 1 (its link failed), and it fails again for the revert.
        let secondReference: UInt64 = 0x5555_0007_0000
        harness.pipeline.fail(.link(patch: 1, aslrReference: secondReference))
        let second = try harness.register("second", at: secondReference).id
        harness.settle()
        #expect(session.patchRecord(1)?.failedBy[second] != nil)
        harness.pipeline.fail(.link(patch: 1, aslrReference: secondReference))
        let revert = try session.enqueueRevert(of: 2)
        harness.settle()
        let record = try #require(session.patchRecord(revert))
        #expect(record.state == .succeeded && record.links.map(\.aslrReference) == [0x5555_0000_1000], "\(record)")
        #expect(record.failedBy[second]?.hasPrefix("link failed") == true, "\(record.failedBy)")
        #expect(session.takePendingPatches(for: first, after: 2)?.map(\.id) == [revert])
        #expect(session.takePendingPatches(for: second, after: 2) == nil, "skipped, not waited for")
    }

    @Test func aSaveNeverJoinsAQueuedRevert() throws {
        let harness = try SessionHarness()
        let session = harness.session
        try harness.build()
        try session.enqueuePatch(trigger: .watch)
        harness.settle()
        // Hold the job thread in a patch so the revert and the save queue behind it.
        let gate = harness.pipeline.hold(.compile(patch: 2))
        try session.enqueuePatch(trigger: .watch)
        #expect(gate.waitUntilReached())
        let revert = try session.enqueueRevert(of: 1)
        let save = try session.enqueuePatch(trigger: .watch)
        #expect(save != revert, "the save queued a patch of its own")
        gate.open()
        harness.settle()
        #expect(session.patchRecord(save)?.state == .succeeded && session.patchRecord(revert)?.revertOf == 1)
        #expect(harness.pipeline.calls(.compile).count == 3, "the save compiled; the revert did not")
    }

    /// The identifier of the `SessionError` `body` throws; nil when it throws none.
    private func identifier(_ body: () throws -> Int) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? SessionError)?.identifier ?? "\(error)"
        }
    }
}
