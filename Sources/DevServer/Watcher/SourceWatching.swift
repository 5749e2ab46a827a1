import Foundation
import Hotpatch
import Logging

/// Connects the file watcher to a session: a save of any tracked source queues a patch (saves
/// during a running patch coalesce into one follow-up), and the watched set follows the sources
/// each build and patch record.
final class SourceWatching: Sendable {
    private let watcher: SourceWatcher

    private init(watcher: SourceWatcher) {
        self.watcher = watcher
    }

    static func start(session: ProjectSession, logger: Logger) -> SourceWatching? {
        let watcher = SourceWatcher(paths: trackedFiles(session)) { (report: SourceWatcher.Report) in
            let names = report.paths.map { URL(fileURLWithPath: $0).lastPathComponent }.sorted().joined(separator: ", ")
            logger.info("saved: \(names)")
            do {
                try session.enqueuePatch(trigger: .watch, savedAt: report.firstEventAt)
            } catch {
                logger.warning("no patch for that save: \(error)")
            }
        }
        let watching = SourceWatching(watcher: watcher)
        session.onSourcesChanged { [weak watcher] in watcher?.updateFiles(trackedFiles(session)) }
        return watching
    }

    func stop() { watcher.stop() }

    private static func trackedFiles(_ session: ProjectSession) -> [String] {
        do {
            // Manifests, build scripts, the lock file, cargo's config too: a save of one is
            // noticed, and its patch answers `not_patchable` with the reason.
            let state = try ProjectState.load(session.layout)
            return state.sources.flatMap { $0.files.map(\.path) } + (state.buildInputs?.existingFiles ?? [])
        } catch {
            session.logger.error("cannot read the tracked sources, so no save is watched until the next build: \(error)")
            return []
        }
    }
}
