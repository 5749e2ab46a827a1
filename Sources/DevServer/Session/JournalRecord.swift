import Foundation
import Hotpatch

/// A record the journal keeps in a list and finds by its key: builds, patches, devices. One
/// generic lookup and update serve all three.
protocol JournalRecord: Sendable {
    /// Where the journal keeps records of this type.
    static var records: WritableKeyPath<Journal, [Self]> { get }
    /// The id as the API spells it (a build id, a patch number, a device id).
    var key: String { get }
}

/// A build or a patch: the record of a job the queue runs. One generic enqueue, start, finish
/// and cancel serve both.
protocol JobRecord: JournalRecord {
    static var kind: JobQueue.Kind { get }
    var state: JobState { get set }
    var createdAt: Date { get }
    /// Marks the job ended in `state`.
    mutating func finish(_ state: JobState, error: JobFailure?, at date: Date)
    /// The event reporting `step` of this job.
    static func event(_ step: SessionEvent.JobStep, _ record: Self) -> SessionEvent
}

extension BuildRecord: JobRecord {
    static var records: WritableKeyPath<Journal, [BuildRecord]> { \.builds }
    static var kind: JobQueue.Kind { .build }
    var key: String { id.rawValue }

    mutating func finish(_ state: JobState, error: JobFailure?, at date: Date) {
        self.state = state
        finishedAt = date
        self.error = error
    }

    static func event(_ step: SessionEvent.JobStep, _ record: BuildRecord) -> SessionEvent {
        .build(step, record)
    }
}

extension PatchRecord: JobRecord {
    static var records: WritableKeyPath<Journal, [PatchRecord]> { \.patches }
    static var kind: JobQueue.Kind { .patch }
    var key: String { String(id) }

    mutating func finish(_ state: JobState, error: JobFailure?, at date: Date) {
        self.state = state
        finishedAt = date
        self.error = error
        updateLatency { $0.finishedAt = date }
    }

    static func event(_ step: SessionEvent.JobStep, _ record: PatchRecord) -> SessionEvent {
        .patch(step, record)
    }
}

extension DeviceRecord: JournalRecord {
    static var records: WritableKeyPath<Journal, [DeviceRecord]> { \.devices }
    var key: String { id }
}

extension Journal {
    /// The record of type `Record` with that key.
    func record<Record: JournalRecord>(_ type: Record.Type, _ key: String) -> Record? {
        self[keyPath: Record.records].first { $0.key == key }
    }

    /// Changes the record with that key in place; the changed record, or nil when there is none.
    @discardableResult
    mutating func update<Record: JournalRecord>(
        _ type: Record.Type, _ key: String, _ change: (inout Record) -> Void
    ) -> Record? {
        guard let index = self[keyPath: Record.records].firstIndex(where: { $0.key == key }) else { return nil }
        change(&self[keyPath: Record.records][index])
        return self[keyPath: Record.records][index]
    }
}
