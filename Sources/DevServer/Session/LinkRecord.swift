import Foundation
import Hotpatch

/// One library linked from a patch's objects: for one ASLR reference, or (a shared link) for
/// every process of the build, the jump table then derived per process.
///
/// The jump table is kept as the value it is; the routes encode it (our JSON or subsecond's) once
/// per answer or event. Journals written before that kept its two JSON texts instead: they are
/// decoded into the value once, when the journal is read (`LinkRecord+Legacy.swift`).
struct LinkRecord: Sendable {
    var aslrReference: UInt64
    var libraryPath: String
    var sha256: String
    var size: Int
    /// The jump table for the process at ``aslrReference``.
    var table: JumpTable
    var plan: PatchPlan

    var isShared: Bool { plan.library.linkMode == .shared }

    /// The same library for the process whose anchor runs at `aslrReference`.
    func resliding(to aslrReference: UInt64) -> LinkRecord {
        guard aslrReference != self.aslrReference else { return self }
        var copy = self
        copy.aslrReference = aslrReference
        copy.table = table.resliding(aslrReference: aslrReference)
        return copy
    }
}

extension LinkRecord: Codable {
    enum CodingKeys: String, CodingKey {
        case aslrReference, libraryPath, sha256, size, table, plan
        /// Journals before the table was kept as a value: our JSON and subsecond's, as text.
        case jumpTableJSON, subsecondJSON
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        aslrReference = try container.decode(UInt64.self, forKey: .aslrReference)
        libraryPath = try container.decode(String.self, forKey: .libraryPath)
        sha256 = try container.decode(String.self, forKey: .sha256)
        size = try container.decode(Int.self, forKey: .size)
        plan = try container.decode(PatchPlan.self, forKey: .plan)
        if let table = try container.decodeIfPresent(JumpTable.self, forKey: .table) {
            self.table = table
        } else {
            // Older than shared links: only the texts say what the table was.
            table = try JumpTable(
                legacyJSON: try container.decode(String.self, forKey: .jumpTableJSON),
                subsecondJSON: try container.decode(String.self, forKey: .subsecondJSON),
                codingPath: container.codingPath)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(aslrReference, forKey: .aslrReference)
        try container.encode(libraryPath, forKey: .libraryPath)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(size, forKey: .size)
        try container.encode(table, forKey: .table)
        try container.encode(plan, forKey: .plan)
    }
}
