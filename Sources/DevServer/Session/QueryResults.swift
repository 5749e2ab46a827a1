import Foundation
import Hotpatch

/// A patch a device has not applied yet, with the library linked for that device.
struct PendingPatch: Sendable {
    let id: Int
    let sha256: String
    /// The jump table slid for the device.
    let jumpTable: JumpTable
}

/// A newer build a device of an older one is to restart into: its kept binary, by path (for a
/// device on this machine) and by URL, and the sha256 both must have.
struct RestartOffer: Sendable {
    let buildId: BuildID
    let binaryPath: String
    let sha256: String
}

/// Two binaries (or objects) compared function by function.
struct BinaryDiff: Sendable {
    /// The resolved paths that were compared.
    let old: String
    let new: String
    let report: DiffReport
}

/// The defined symbols of a build's binary that match a search.
struct SymbolListing: Sendable {
    /// One defined symbol.
    struct Symbol: Sendable {
        let name: String
        let demangled: String
        let address: UInt64
        let size: UInt64
        let kind: SymbolKind
        let binding: SymbolBinding
        let section: String
    }

    let build: String
    /// The first matches, at most the limit asked for.
    let symbols: [Symbol]
    /// Every match, including those beyond the limit.
    let total: Int
}

/// A snapshot of the whole session, for a status report.
struct SessionStatus: Sendable {
    /// The project's key in the cache directory (`<dir name>-<digest>`).
    let projectKey: String
    let toolchain: RustcVersion?
    /// The newest succeeded build, and the newest build whatever its state.
    let currentBuild: BuildRecord?
    let latestBuild: BuildRecord?
    let queue: [JobQueue.Entry]
    let devices: [DeviceRecord]
    let lastPatch: PatchRecord?
    let patchCount: Int
}
