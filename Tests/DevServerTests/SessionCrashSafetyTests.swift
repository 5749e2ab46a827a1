@testable import DevServer
import Foundation
@testable import Hotpatch
import Testing

/// What a killed server leaves and what the next one makes of it, on the scripted pipeline: the
/// marker a job writes before it does any work, the job a journal never heard of, the libraries
/// served only for succeeded patches and only as they were linked. (The live kill -9 at each
/// point of a job is `CrashSafetyEndToEndTests`.)
@Suite struct SessionCrashSafetyTests {
    @Test func aStartedJobIsMarkedBeforeItWorksAndTheMarkerGoesOnceTheJournalHasIt() throws {
        let harness = try SessionHarness()
        try harness.build()
        let gate = harness.pipeline.hold(.compile(patch: 1))
        try harness.session.enqueuePatch(trigger: .api)
        #expect(gate.waitUntilReached())

        // While it compiles: the marker holds the running record (the build's may still be
        // there too, until the journal write that carries the build has finished).
        let markers = RunningJob.load(harness.layout).filter { $0.patch != nil }
        #expect(markers.map(\.patch?.id) == [1] && markers.first?.patch?.state == .running, "\(markers.map(\.key))")
        gate.open()
        harness.settle()
        harness.session.journalExecutor.sync {}

        // Finished and journaled at once (not 50 ms later): the marker has done its work.
        #expect(RunningJob.load(harness.layout).isEmpty)
        let journal = try #require(try Journal.load(harness.layout))
        #expect(journal.record(PatchRecord.self, "1")?.state == .succeeded)
    }

    @Test func aJobTheJournalNeverHeardOfIsAdoptedFromItsMarkerAndFailed() throws {
        let build = try #require(BuildID("b20270102-000000-bbbbbb"))
        var journal = Journal()
        var current = BuildRecord(id: build, state: .succeeded, trigger: .startup, createdAt: ManualClock.start)
        current.build = PipelineFixtures.fatBuild(build, root: URL(fileURLWithPath: "/unused"))
        journal.builds = [current]
        var running = PatchRecord(id: 4, buildId: build, state: .running, trigger: .watch, createdAt: ManualClock.start, startedAt: ManualClock.start)
        running.compilation = try PipelineFixtures.storedCompilation(build: build, patch: 4, root: URL(fileURLWithPath: "/unused"))
        let newBuild = try #require(BuildID("b20270103-000000-cccccc"))
        let harness = try SessionHarness(journal: journal, running: [
            RunningJob(patch: running),
            RunningJob(build: BuildRecord(id: newBuild, state: .running, trigger: .api, createdAt: ManualClock.start)),
        ])

        let patch = try #require(harness.session.patchRecord(4))
        #expect(patch.state == .failed && patch.error?.code == "server_stopped")
        #expect(patch.error?.message == "the server stopped while the patch linked", "\(patch.error?.message ?? "")")
        #expect(patch.links.isEmpty)
        let stopped = try #require(harness.session.buildRecord(newBuild.rawValue))
        #expect(stopped.state == .failed && stopped.error?.message == "the server stopped during the build")
        #expect(harness.session.currentBuild?.id == build, "a failed build is never current")
        #expect(throws: SessionError.self) { try harness.session.library(patchId: 4, deviceId: nil, aslrReference: nil) }

        // Journaled right away, markers gone.
        harness.session.journalExecutor.sync {}
        #expect(RunningJob.load(harness.layout).isEmpty)
        #expect(try Journal.load(harness.layout)?.record(PatchRecord.self, "4")?.error?.code == "server_stopped")
    }

    @Test func aPatchThatFailsAfterItsLinkListsAndServesNoLibrary() throws {
        let harness = try SessionHarness()
        try harness.build()
        let library = harness.layout.patch(1).library(named: "libwhisker-patch-1.so").path
        harness.pipeline.fail(.commit(patch: 1, library: library), with: FileError.diskFull(path: "/cache/store/project-state.json", reason: "No space left on device"))
        try harness.session.enqueuePatch(trigger: .api)
        harness.settle()

        let record = try #require(harness.session.patchRecord(1))
        #expect(record.state == .failed && record.error?.code == "disk_full", "\(record.error.map { "\($0)" } ?? "")")
        #expect(record.links.isEmpty)
        #expect(RecordJSON(configuration: harness.configuration).patch(record)["library"] == nil)
        do {
            _ = try harness.session.library(patchId: 1, deviceId: nil, aslrReference: PipelineFixtures.anchor)
            Issue.record("a failed patch's library was handed out")
        } catch {
            #expect(error.identifier == "no_library")
        }
        #expect(SessionError(wrapping: FileError.diskFull(path: "/x", reason: "r")).code == .environment, "a full disk is the machine's")
    }

    @Test func aLibraryIsServedOnlyAsItWasLinked() throws {
        let harness = try SessionHarness()
        try harness.build()
        try harness.session.enqueuePatch(trigger: .api)
        harness.settle()
        var link = try harness.session.library(patchId: 1, deviceId: nil, aslrReference: nil)
        let bytes = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try FileManager.default.createDirectory(atPath: (link.libraryPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: link.libraryPath))
        link.size = bytes.count
        link.sha256 = HotpatchModuleCache.sha256(of: bytes)
        #expect(try harness.session.libraryContents(link, patchId: 1) == bytes)

        // Cut short (a crash, a full disk) or changed: never sent.
        for damaged in [Array(bytes.prefix(1000)), bytes.map { $0 ^ 1 }] {
            try Data(damaged).write(to: URL(fileURLWithPath: link.libraryPath))
            do {
                _ = try harness.session.libraryContents(link, patchId: 1)
                Issue.record("damaged bytes were served")
            } catch {
                #expect(error.identifier == "library_corrupt" && error.code == .gone, "\(error)")
            }
        }
        try FileManager.default.removeItem(atPath: link.libraryPath)
        #expect(throws: SessionError.self) { try harness.session.libraryContents(link, patchId: 1) }
    }

    @Test func startupPatchesAKeptBuildWhoseSourcesChangedAndBuildsWithoutOne() throws {
        let fresh = try SessionHarness()
        guard case .build = try fresh.session.startup() else {
            Issue.record("no build yet: a fat build")
            return
        }
        fresh.settle()

        let harness = try SessionHarness()
        try harness.build()
        harness.pipeline.setSourcesUnchanged(false)
        let startup = try harness.session.startup()
        #expect(startup == .patch(id: 1, build: try #require(harness.session.currentBuild?.id)), "\(startup)")
        harness.settle()
        #expect(harness.session.patchRecord(1)?.state == .succeeded && harness.session.patchRecord(1)?.trigger == .startup)
    }
}
