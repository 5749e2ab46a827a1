import Foundation
import ObjectFile

/// Whether a rebuilt library's metadata (its `.rmeta`, all a dependent compiles against) says the
/// same as before, so dependents compiled against the old one would compile to the same code and
/// need not be replayed.
///
/// rustc's metadata holds every item's signature, type, span and the MIR of generic and
/// `#[inline]` functions, but not the bodies of other functions. An edit inside such a body
/// changes only hashes in it (the crate hash and the edited file's source hash, 16 bytes each,
/// seen with rustc 1.95); anything else — a moved span, a changed signature, constant, generic or
/// inline body — changes other bytes or the length. So two metadata files are equivalent when they
/// have the same length and differ only in a few hash-sized runs. Misjudging in the safe direction
/// costs one replay; a value edit (a constant, a literal in a generic body) changes a short run of
/// bytes, which never passes for a hash.
public enum LibraryInterface {
    /// Differences further apart than this are separate runs.
    static let gap = 4
    static let hashRun = 10...32
    static let maximumRuns = 16

    public static func equivalent(_ old: String, _ new: String) -> Bool {
        guard let lhs = try? MappedFile(path: old), let rhs = try? MappedFile(path: new) else { return false }
        let a = lhs.unsafeBytes
        let b = rhs.unsafeBytes
        guard a.count == b.count, a.count > 0 else { return false }
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return false }
        var runs = 0
        var runStart: Int?
        var lastDifference = 0
        // Whole chunks compare with memcmp; bytes are looked at only where they differ.
        let chunk = 4096
        var chunkStart = 0
        while chunkStart < a.count {
            let length = min(chunk, a.count - chunkStart)
            defer { chunkStart += length }
            if memcmp(pa + chunkStart, pb + chunkStart, length) == 0 { continue }
            for index in chunkStart..<(chunkStart + length) where a[index] != b[index] {
                if runStart != nil, index - lastDifference <= gap {
                    lastDifference = index
                    continue
                }
                if let start = runStart, !hashRun.contains(lastDifference - start + 1) { return false }
                runs += 1
                if runs > maximumRuns { return false }
                runStart = index
                lastDifference = index
            }
        }
        if let start = runStart, !hashRun.contains(lastDifference - start + 1) { return false }
        return true
    }
}
