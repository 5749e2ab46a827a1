import Foundation
import Hotpatch

/// The journal's writes: durable, off the job thread, and the markers that cover the moments
/// before a job reaches the journal (docs/architecture.md, "Crash safety").
extension ProjectSession {
    /// Writes the journal now, on the journal executor, durably: first the files its records
    /// name and the store's other records are synced (written on the patch's critical path
    /// without `fsync`, which costs 5–70 ms a file), then the journal goes to a temporary file,
    /// is synced and renamed over the old one. `last`: the final write of `shutdown`, after which
    /// none is made. A failure (a full disk) is logged and leaves the previous journal whole: the
    /// records stay served from memory, and the next change tries again.
    func writeJournal(last: Bool = false) {
        let taken = state.withLock { state -> (Journal, [String], [(kind: JobQueue.Kind, key: String)])? in
            guard !state.journalClosed else { return nil }
            state.journalClosed = last
            state.journalWriteScheduled = false
            defer { state.unsyncedFiles = [] }
            return (state.journal, state.unsyncedFiles, state.markedJobs)
        }
        guard let (journal, unsynced, marked) = taken else { return }
        var snapshot = journal
        snapshot.lastEventId = lastEventID()
        JSONFile.sync(unsynced + ProjectStore(layout).recordFiles.filter { $0 != Journal.file(in: layout).path })
        do {
            try snapshot.save(layout, durable: true)
        } catch {
            change { $0.unsyncedFiles.append(contentsOf: unsynced) }
            logger.error("cannot write the journal \(Journal.file(in: layout).path): \(error)")
            return
        }
        // The journal now carries these jobs: their markers have done their work.
        let carried = marked.filter { job in
            let state = job.kind == .build
                ? snapshot.record(BuildRecord.self, job.key)?.state : snapshot.record(PatchRecord.self, job.key)?.state
            return state != nil && state != .queued
        }
        for job in carried { RunningJob.remove(kind: job.kind, key: job.key, layout: layout) }
        if !carried.isEmpty {
            change { state in
                state.markedJobs.removeAll { job in carried.contains { $0.kind == job.kind && $0.key == job.key } }
            }
        }
    }

    /// Writes the ``RunningJob`` marker of a job that has just started (its record says
    /// `running`), on the job thread, before the job does any work: a server killed before the
    /// next journal write still knows, when it restarts, which job it was running. Throws what
    /// the write throws (a full disk): the job then fails before it starts anything.
    func markStarted(_ kind: JobQueue.Kind, _ key: String) throws {
        let running = read { state in
            kind == .build
                ? state.journal.record(BuildRecord.self, key).map { RunningJob(build: $0) }
                : state.journal.record(PatchRecord.self, key).map { RunningJob(patch: $0) }
        }
        guard let running else { return }
        try running.save(layout)
        change { $0.markedJobs.append((kind, key)) }
    }
}
