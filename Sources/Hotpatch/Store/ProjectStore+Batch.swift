import Foundation

extension ProjectStore {
    /// Several records replaced as one change: a patch's commit moves the project state, the
    /// function baseline and the statics record together, and a full disk half-way must not leave
    /// the next patch comparing against a mix of old and new.
    ///
    /// Every record is first written to a temporary file beside it (``stage(_:for:)``); only when
    /// all are written does ``commit()`` rename them into place, which needs no free space. A
    /// failure while staging (a full disk, ``FileError/diskFull(path:reason:)``) removes what was
    /// staged and leaves every record as it was. A process killed between the renames (a window
    /// of microseconds) leaves some records new and some old; every one of them is whole.
    public final class Batch {
        let store: ProjectStore
        private var staged: [(temporary: String, path: String)] = []

        init(store: ProjectStore) {
            self.store = store
        }

        /// Writes `value` beside `key`'s record, not yet in its place.
        public func stage<Value>(_ value: Value, for key: Key<Value>) throws {
            let path = store.file(key)
            try JSONFile.createDirectory(path.deletingLastPathComponent())
            let bytes = try store.encoded(value)
            do {
                staged.append((try AtomicFile.stage(path.path, with: bytes), path.path))
            } catch {
                discard()
                throw FileError(writing: path.path, error)
            }
        }

        /// Renames every staged record into place.
        public func commit() throws {
            defer { staged = [] }
            for (index, entry) in staged.enumerated() {
                do {
                    try AtomicFile.commit(entry.temporary, to: entry.path)
                } catch {
                    for later in staged[(index + 1)...] { unlink(later.temporary) }
                    throw FileError(writing: entry.path, error)
                }
            }
        }

        /// Drops what was staged and not committed (a no-op after ``commit()``).
        public func discard() {
            for entry in staged { unlink(entry.temporary) }
            staged = []
        }

        deinit { discard() }
    }

    /// A new, empty batch of record replacements.
    public func batch() -> Batch {
        Batch(store: self)
    }
}
