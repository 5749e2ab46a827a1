/// A tracked crate with at least one source file that differs from its fingerprint.
public struct CrateChange: Codable, Sendable, Equatable {
    public var crateName: String
    public var crateTypes: [String]
    public var captureFile: String
    public var isBinary: Bool
    /// Absolute paths of the files that changed, appeared missing, or whose compiled content is unknown.
    public var changedFiles: [String]
}

/// The result of comparing every tracked crate's sources with their fingerprints.
public struct ChangeSet: Codable, Sendable, Equatable {
    public var changed: [CrateChange]
    /// The tracked crates with fingerprints as measured now (hash included for changed files):
    /// what to store once a patch built from this state succeeds.
    public var current: [TrackedCrate]
    public var filesChecked: Int
    public var filesHashed: Int

    public var isEmpty: Bool { changed.isEmpty }
}

/// Finds what changed since the last build or patch: size + mtime first, then the content hash
/// when those differ, so an untouched tree costs one `stat` per file.
public enum ChangeDetection {
    public static func detect(_ tracked: [TrackedCrate]) -> ChangeSet {
        var changed: [CrateChange] = []
        var current: [TrackedCrate] = []
        var checked = 0
        var hashed = 0
        for crate in tracked {
            var changedFiles: [String] = []
            var files: [TrackedFile] = []
            for file in crate.files {
                checked += 1
                guard let now = SourceFingerprint.fileStatus(file.path) else {
                    // Deleted (or unreadable): a change only if it existed when last compiled.
                    if file.fingerprint != nil { changedFiles.append(file.path) }
                    files.append(TrackedFile(path: file.path, fingerprint: nil))
                    continue
                }
                if let old = file.fingerprint, let hash = old.sha256, old.size == now.size, old.modifiedNs == now.modifiedNs {
                    files.append(TrackedFile(path: file.path, fingerprint: SourceFingerprint(size: now.size, modifiedNs: now.modifiedNs, sha256: hash)))
                    continue
                }
                hashed += 1
                let hash = SourceFingerprint.sha256(ofFile: file.path)
                let fingerprint = SourceFingerprint(size: now.size, modifiedNs: now.modifiedNs, sha256: hash)
                files.append(TrackedFile(path: file.path, fingerprint: fingerprint))
                if hash == nil || file.fingerprint?.sha256 == nil || file.fingerprint?.sha256 != hash {
                    changedFiles.append(file.path)
                }
            }
            var updated = crate
            updated.files = files
            current.append(updated)
            if !changedFiles.isEmpty {
                changed.append(CrateChange(crateName: crate.crateName, crateTypes: crate.crateTypes, captureFile: crate.captureFile, isBinary: crate.isBinary, changedFiles: changedFiles))
            }
        }
        return ChangeSet(changed: changed, current: current, filesChecked: checked, filesHashed: hashed)
    }
}
