import Foundation
import Hotpatch

/// Everything the server journals, so a restart keeps builds, patches and devices.
struct Journal: Codable, Sendable {
    var builds: [BuildRecord] = []
    var patches: [PatchRecord] = []
    var devices: [DeviceRecord] = []
    var lastEventId: UInt64 = 0

    /// Where a project's journal lives: the project store's `journal` record.
    static func file(in layout: ProjectLayout) -> URL {
        ProjectStore(layout).file(.journal)
    }

    /// The project's journal, nil when the server never ran on it (a journal from before the
    /// store, `server-journal.json`, is migrated on the way).
    static func load(_ layout: ProjectLayout) throws -> Journal? {
        try ProjectStore(layout).read(.journal)
    }

    func save(_ layout: ProjectLayout) throws {
        try ProjectStore(layout).write(self, for: .journal)
    }

    /// The event id the last run reached (0 without a journal), for the event hub to continue from.
    /// An unreadable journal counts as none here: the session reading it next fails with the reason.
    static func lastEventID(in layout: ProjectLayout) -> UInt64 {
        ((try? load(layout)) ?? nil)?.lastEventId ?? 0
    }

    /// A journal read at startup: jobs that were running when the server stopped did not finish,
    /// and no device is connected until it polls again.
    mutating func markInterrupted() {
        for index in builds.indices where !builds[index].state.isFinished {
            builds[index].state = .cancelled
            builds[index].error = JobFailure(code: "server_stopped", message: "the server stopped before the build finished")
        }
        for index in builds.indices where builds[index].warmUp.map({ !$0.state.isFinished }) == true {
            builds[index].warmUp = WarmUpRecord(state: .cancelled, message: "the server stopped during the warm-up")
        }
        for index in patches.indices where !patches[index].state.isFinished {
            patches[index].state = .cancelled
            patches[index].error = JobFailure(code: "server_stopped", message: "the server stopped before the patch finished")
        }
        for index in devices.indices where devices[index].state != .lost {
            devices[index].state = .lost
        }
    }
}

extension ProjectStore.Key where Value == Journal {
    /// The server's builds, patches, devices and last event id.
    static var journal: Self { .init("journal", legacyFile: "server-journal.json") }
}
