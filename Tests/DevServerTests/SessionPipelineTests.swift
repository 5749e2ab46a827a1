@testable import DevServer
import Foundation
@testable import Hotpatch
import Testing

/// The session's jobs on a scripted pipeline and a manual clock: what runs, in which order, what
/// the records and events say, and what the pipeline was asked. No rustc, no HTTP.
@Suite struct SessionPipelineTests {
    @Test func aBuildRunsItsPhasesThenTheWarmUpAndBecomesCurrent() throws {
        let harness = try SessionHarness()
        harness.pipeline.cost(.fatBuild, .seconds(2))
        harness.pipeline.cost(.warmUp, .milliseconds(750))
        let id = try harness.build()

        let record = try #require(harness.session.buildRecord(id.rawValue))
        #expect(record.state == .succeeded)
        #expect(record.startedAt == ManualClock.start && record.finishedAt == ManualClock.at(.seconds(2)))
        #expect(record.phases == PipelineFixtures.buildPhases && record.binarySize == 8_100_000)
        #expect(record.warmUp?.state == .succeeded && record.warmUp?.durationMs == 750)
        #expect(harness.session.currentBuild?.id == id)
        #expect(harness.pipeline.calls == [.fatBuild(id), .warmUp(id)])
        let b = id.rawValue
        #expect(harness.events == [
            "build \(b) queued", "build \(b) started", "build \(b) progress prepare", "build \(b) progress cargo",
            "build \(b) succeeded", "build \(b) warmUp running", "build \(b) warmUp succeeded",
        ])
    }

    @Test func savesWhileAPatchRunsCoalesceIntoOneFollowUpPatch() throws {
        let harness = try SessionHarness()
        try harness.build()
        harness.clearEvents()
        let session = harness.session
        let gate = harness.pipeline.hold(.compile(patch: 1))

        let first = try session.enqueuePatch(trigger: .watch, savedAt: ManualClock.at(.zero))
        #expect(gate.waitUntilReached())
        // Three saves while patch 1 compiles: the first queues patch 2, the others join it.
        var followUps: [Int] = []
        for save in 1...3 {
            harness.clock.advance(by: .milliseconds(100))
            followUps.append(try session.enqueuePatch(trigger: .watch, savedAt: ManualClock.at(.milliseconds(100 * save))))
        }
        #expect(first == 1 && followUps == [2, 2, 2])
        #expect(session.status().queue.map { "\($0.key) \($0.running ? "running" : "queued")" } == ["1 running", "2 queued"])
        gate.open()
        harness.settle()

        #expect(session.patches(after: 0).map(\.state) == [.succeeded, .succeeded])
        #expect(harness.pipeline.calls(.allocatePatch).count == 2)
        #expect(harness.pipeline.calls(.compile) == [.compile(patch: 1), .compile(patch: 2)])
        #expect(harness.pipeline.calls(.commit).map(\.description) == ["commit 1", "commit 2"])
        // The follow-up's latency starts at the first save it covers.
        #expect(session.patchRecord(2)?.latency?.savedAt == ManualClock.at(.milliseconds(100)))
        #expect(harness.events(ofPatch: 2) == [
            "patch 2 queued", "patch 2 started", "patch 2 progress rustc", "patch 2 progress link", "patch 2 succeeded",
        ])
        let names = harness.events
        #expect(names.firstIndex(of: "patch 1 succeeded").map { $0 < (names.firstIndex(of: "patch 2 started") ?? 0) } == true, "\(names)")
    }

    @Test func aPatchMeasuresItsLatencyOnTheSessionClock() throws {
        let harness = try SessionHarness()
        try harness.build()
        harness.pipeline.cost(.compile, .milliseconds(200))
        harness.pipeline.cost(.link, .milliseconds(30))
        harness.pipeline.cost(.commit, .milliseconds(5))
        harness.clock.advance(by: .milliseconds(10))
        let id = try harness.session.enqueuePatch(trigger: .watch, savedAt: ManualClock.start)
        harness.settle()

        let latency = try #require(harness.session.patchRecord(id)?.latency)
        #expect(latency.queuedAt == ManualClock.at(.milliseconds(10)))
        #expect(latency.startedAt == ManualClock.at(.milliseconds(10)))
        #expect(latency.linkedAt == ManualClock.at(.milliseconds(240)))
        #expect(latency.finishedAt == ManualClock.at(.milliseconds(245)))
        #expect(latency.saveToFinishedMs == 245)
        // The plan the API serves carries the same latency.
        #expect(harness.session.patchRecord(id)?.links.first?.plan.latency == latency)
    }

    @Test func cancellingAQueuedPatchEndsItAtOnceAndItNeverRuns() throws {
        let harness = try SessionHarness()
        try harness.build()
        harness.clearEvents()
        let session = harness.session
        let gate = harness.pipeline.hold(.compile(patch: 1))
        try session.enqueuePatch(trigger: .api)
        #expect(gate.waitUntilReached())
        // An API patch while one runs is queued, not coalesced and not refused.
        #expect(try session.enqueuePatch(trigger: .api) == 2)

        try session.cancelPatch(2)
        let cancelled = try #require(session.patchRecord(2))
        #expect(cancelled.state == .cancelled && cancelled.error == nil && cancelled.startedAt == nil)
        #expect(cancelled.finishedAt == ManualClock.start && cancelled.latency?.finishedAt == ManualClock.start)
        #expect(session.status().queue.map(\.key) == ["1"])
        #expect(harness.events(ofPatch: 2) == ["patch 2 queued", "patch 2 cancelled"])
        #expect(throws: SessionError.self) { try session.cancelPatch(2) }

        gate.open()
        harness.settle()
        #expect(session.patchRecord(1)?.state == .succeeded)
        #expect(harness.pipeline.calls(.compile) == [.compile(patch: 1)], "patch 2 never reached the pipeline")
        #expect(harness.events(ofPatch: 2) == ["patch 2 queued", "patch 2 cancelled"])
    }

    @Test func cancellingTheRunningPatchStopsItInsideThePipeline() throws {
        let harness = try SessionHarness()
        try harness.build()
        harness.clearEvents()
        let session = harness.session
        let gate = harness.pipeline.hold(.compile(patch: 1))
        try session.enqueuePatch(trigger: .api)
        #expect(gate.waitUntilReached())
        #expect(session.patchRecord(1)?.state == .running)

        try session.cancelPatch(1)
        harness.settle()
        let record = try #require(session.patchRecord(1))
        #expect(record.state == .cancelled)
        #expect(record.links.isEmpty && record.compilation == nil)
        #expect(harness.pipeline.cancelledSteps == [.compile(patch: 1)], "the compile saw the cancellation")
        #expect(harness.pipeline.calls(.link).isEmpty && harness.pipeline.calls(.commit).isEmpty)
        #expect(harness.events(ofPatch: 1) == ["patch 1 queued", "patch 1 started", "patch 1 progress rustc", "patch 1 cancelled"])
        let error = try #require(throws: SessionError.self) { try session.cancelPatch(1) }
        #expect(error.identifier == "job_finished")
    }

    @Test func cancellingBuildsQueuedAndRunning() throws {
        let harness = try SessionHarness()
        let session = harness.session
        let gate = harness.pipeline.holdNext(.fatBuild)
        let running = try session.enqueueBuild(trigger: .api)
        #expect(gate.waitUntilReached())
        let queued = try session.enqueueBuild(trigger: .api)

        try session.cancelBuild(queued.rawValue)
        #expect(session.buildRecord(queued.rawValue)?.state == .cancelled)
        #expect(session.status().queue.map(\.key) == [running.rawValue])
        try session.cancelBuild(running.rawValue)
        harness.settle()

        let stopped = try #require(session.buildRecord(running.rawValue))
        #expect(stopped.state == .cancelled && stopped.build == nil)
        #expect(stopped.warmUp == nil, "a cancelled build has no warm-up")
        #expect(session.currentBuild == nil)
        #expect(harness.pipeline.cancelledSteps == [.fatBuild(running)])
        #expect(harness.pipeline.calls == [.fatBuild(running)], "the queued build never reached the pipeline")
        #expect(harness.events == [
            "build \(running.rawValue) queued", "build \(running.rawValue) started", "build \(queued.rawValue) queued",
            "build \(queued.rawValue) cancelled", "build \(running.rawValue) cancelled",
        ])
    }

    @Test func aBuildAskedForWhileOneWaitsJoinsItAndOtherSettingsAreRefused() throws {
        let harness = try SessionHarness()
        let session = harness.session
        let gate = harness.pipeline.holdNext(.fatBuild)
        let running = try session.enqueueBuild(trigger: .api)
        #expect(gate.waitUntilReached())
        let queued = try session.enqueueBuild(trigger: .api)
        // The same sources and settings: the waiting build is the one asked for.
        let joined = try session.enqueueBuild(BuildRequest(profile: "dev", features: []), trigger: .api)
        #expect(queued != running && joined == queued)
        #expect(session.status().queue.map(\.key) == [running.rawValue, queued.rawValue])
        for request in [BuildRequest(profile: "release"), BuildRequest(package: "other"), BuildRequest(bin: "other"), BuildRequest(features: ["extra"])] {
            let refused = try #require(throws: SessionError.self) { try session.enqueueBuild(request, trigger: .api) }
            #expect(refused.identifier == "build_settings_mismatch", "\(request)")
            #expect(refused.code == .conflict)
        }
        try session.cancelBuild(queued.rawValue)
        try session.cancelBuild(running.rawValue)
        harness.settle()
        #expect(session.builds.count == 2)
    }

    @Test func aPatchNeedsASucceededBuildAndSomethingToPatch() throws {
        let harness = try SessionHarness()
        let session = harness.session
        let noBuild = try #require(throws: SessionError.self) { try session.enqueuePatch(trigger: .api) }
        #expect(noBuild.identifier == "no_build")
        try harness.build()
        harness.pipeline.setSourcesUnchanged(true)
        let unchanged = try #require(throws: SessionError.self) { try session.enqueuePatch(trigger: .api) }
        #expect(unchanged.identifier == "nothing_changed")
        // A save is never refused: the patch finds out. The same bytes saved again cancel it; a
        // compile error fails it.
        harness.pipeline.fail(.compile(patch: 1), with: ThinBuildError.nothingChanged)
        harness.pipeline.fail(.compile(patch: 2))
        #expect(try session.enqueuePatch(trigger: .watch) == 1)
        harness.settle()
        #expect(try session.enqueuePatch(trigger: .watch) == 2)
        harness.settle()
        #expect(session.patches(after: 0).map(\.state) == [.cancelled, .failed])
        #expect(session.patchRecord(1)?.error?.code == "nothing_changed")
        #expect(session.patchRecord(2)?.error?.code == "scripted_failure")
        #expect(harness.pipeline.calls(.link).isEmpty && harness.pipeline.calls(.commit).isEmpty)
        let wrongBuild = try #require(throws: SessionError.self) {
            try session.enqueuePatch(PatchRequest(build: "b20990101-000000-abcdef"), trigger: .api)
        }
        #expect(wrongBuild.identifier == "build_not_found")
    }

    @Test func shutdownCancelsTheQueueStopsTheRunningJobAndRefusesMore() throws {
        let harness = try SessionHarness()
        try harness.build()
        let session = harness.session
        let gate = harness.pipeline.hold(.compile(patch: 1))
        try session.enqueuePatch(trigger: .api)
        #expect(gate.waitUntilReached())
        try session.enqueuePatch(trigger: .api)
        session.shutdown()

        #expect(session.patches(after: 0).map(\.state) == [.cancelled, .cancelled])
        #expect(harness.events.last == "stopping")
        let refused = try #require(throws: SessionError.self) { try session.enqueueBuild(trigger: .api) }
        #expect(refused.code == .shuttingDown)
        #expect(session.builds.last?.error?.code == "shutting_down")
        // The journal on disk has it all.
        let journal = try #require(try Journal.load(harness.layout))
        #expect(journal.patches.map(\.state) == [.cancelled, .cancelled])
    }
}
