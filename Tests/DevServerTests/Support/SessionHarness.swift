@testable import DevServer
import Foundation
@testable import Hotpatch
import Logging
import Synchronization

/// A `ProjectSession` on a `FakePipeline` and a `ManualClock`, in a scratch cache directory,
/// with every event it reports recorded. No rustc, no HTTP.
final class SessionHarness {
    let scratch: TemporaryDirectory
    let configuration: SessionConfiguration
    let layout: ProjectLayout
    let clock = ManualClock()
    let pipeline: FakePipeline
    let session: ProjectSession
    private let recorded = Recorded()

    /// `journal` is written where the session looks for one before it starts (a restart), and
    /// `running` as the markers of jobs a killed server had started (``RunningJob``).
    init(linkMode: PatchLinkMode = .shared, journal: Journal? = nil, running: [RunningJob] = []) throws {
        scratch = try TemporaryDirectory()
        let project = URL(fileURLWithPath: scratch.path).appendingPathComponent("project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        configuration = SessionConfiguration(
            project: project, cacheDirectory: URL(fileURLWithPath: scratch.path).appendingPathComponent("cache"),
            environment: [:])
        layout = ProjectLayout(project: configuration.project, cacheDirectory: configuration.cacheDirectory)
        if let journal {
            try FileManager.default.createDirectory(at: layout.root, withIntermediateDirectories: true)
            try journal.save(layout)
        }
        for marker in running { try marker.save(layout) }
        pipeline = FakePipeline(layout: layout, clock: clock, linkMode: linkMode)
        // Quiet: the records and events are what the tests read.
        let logger = Logger(label: "whisker.test-session") { _ in SwiftLogNoOpLogHandler() }
        session = try ProjectSession(
            configuration: configuration, logger: logger, lastEventID: { 0 }, pipeline: pipeline, clock: clock)
        session.observe { [recorded] event in recorded.events.withLock { $0.append(event) } }
    }

    deinit {
        session.shutdown()
    }

    /// Waits until no job runs or waits, no link is under way and every event was delivered.
    func settle(timeout: Duration = .seconds(5)) {
        let deadline = ContinuousClock.now + timeout
        repeat {
            session.linkExecutor.sync {}
            let idle = session.read { $0.queue.running == nil && $0.queue.pending.isEmpty }
            if idle {
                session.linkExecutor.sync {}
                session.eventExecutor.sync {}
                return
            }
            Thread.sleep(forTimeInterval: 0.001)
        } while ContinuousClock.now < deadline
    }

    /// Waits until every event so far has reached the observers.
    func flushEvents() {
        session.eventExecutor.sync {}
    }

    /// Runs a fat build to the end (warm-up included) and returns its id.
    @discardableResult
    func build() throws -> BuildID {
        let id = try session.enqueueBuild(trigger: .startup)
        settle()
        return id
    }

    /// Every event so far, as one line each (`SessionHarness.label`).
    var events: [String] {
        flushEvents()
        return recorded.events.withLock { $0 }.map(Self.label)
    }

    /// The events of one patch, in order.
    func events(ofPatch id: Int) -> [String] {
        events.filter { $0.hasPrefix("patch \(id) ") }
    }

    func clearEvents() {
        flushEvents()
        recorded.events.withLock { $0.removeAll() }
    }

    /// Registers a device of the current build running at `aslrReference`.
    func register(_ name: String, at aslrReference: UInt64) throws -> DeviceRecord {
        try session.registerDevice(DeviceRegistration(name: name, pid: 42, triple: "x86_64-unknown-linux-gnu", aslrReference: aslrReference))
    }

    /// `patch 2 queued`, `patch 2 progress rustc`, `build b… warmUp running`, `jump-table 1 d…`,
    /// `device d… applied 1`: what happened, and to what, without the record's details.
    static func label(_ event: SessionEvent) -> String {
        func job(_ step: SessionEvent.JobStep, _ state: JobState) -> String {
            switch step {
            case .queued: "queued"
            case .started: "started"
            case .finished: state.rawValue
            }
        }
        switch event {
        case .build(let step, let record): return "build \(record.id.rawValue) \(job(step, record.state))"
        case .buildProgress(let id, let phase, _): return "build \(id.rawValue) progress \(phase.name)"
        case .buildWarmUp(let id, let warmUp): return "build \(id.rawValue) warmUp \(warmUp.state.rawValue)"
        case .patch(let step, let record): return "patch \(record.id) \(job(step, record.state))"
        case .patchProgress(let id, let phase, _): return "patch \(id) progress \(phase)"
        case .patchLatency(let id, _, let device, _): return "patch \(id) latency \(device)"
        case .device(let step, let device):
            switch step {
            case .registered: return "device \(device.id) registered"
            case .acknowledged(let patch, let applied, _): return "device \(device.id) \(applied ? "applied" : "failed") \(patch)"
            case .removed: return "device \(device.id) removed"
            case .lost: return "device \(device.id) lost"
            case .restarting(let build, _): return "device \(device.id) restarting into \(build)"
            case .restarted(let newDevice): return "device \(device.id) restarted as \(newDevice)"
            case .restartLost: return "device \(device.id) restart lost"
            }
        case .jumpTable(let patchId, let device, _): return "jump-table \(patchId) \(device)"
        case .devicePatchesLinked(let device): return "linked for \(device)"
        case .deviceLog(let device, _): return "log \(device)"
        case .stopping: return "stopping"
        }
    }
}

/// The events a harness's session reported, in order.
private final class Recorded: Sendable {
    let events = Mutex<[SessionEvent]>([])
}
