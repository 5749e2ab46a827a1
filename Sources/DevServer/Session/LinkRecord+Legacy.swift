import Foundation
import Hotpatch

/// Reading the jump tables of journals that kept them as text (before the table was a value).
extension JumpTable {
    /// The table that `json()` rendered as `whisker` and `subsecondJSON()` as `subsecond`:
    /// together they carry every field (ours the ids, the slid map and the entry patches;
    /// subsecond's the anchor's file address and the library's `main`), so rendering the result
    /// again gives the same two texts.
    init(legacyJSON whisker: String, subsecondJSON subsecond: String, codingPath: [any CodingKey]) throws {
        let decoder = JSONDecoder()
        let ours = try decoder.decode(LegacyWhiskerTable.self, from: Data(whisker.utf8))
        let theirs = try decoder.decode(LegacySubsecondTable.self, from: Data(subsecond.utf8))
        func address(_ text: String) throws -> UInt64 {
            guard let value = HexAddress.parse(text) else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: codingPath, debugDescription: "'\(text)' in a journaled jump table is not a 0x… address"))
            }
            return value
        }
        let slide = ASLRSlide(aslrReference: try address(ours.aslrReference), anchorFileAddress: theirs.aslrReference)
        let entries = try ours.map.map { pair in
            guard pair.count == 2 else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "a jump table entry is not a pair"))
            }
            return Entry(oldFileAddress: slide.fileAddress(ofRuntimeAddress: try address(pair[0])), newAddress: try address(pair[1]))
        }
        let entryPatches = try (ours.entryPatches ?? []).map { patch in
            EntryPatch(
                oldFileAddress: slide.fileAddress(ofRuntimeAddress: try address(patch.old)),
                newAddress: try address(patch.new), oldSize: patch.size)
        }
        self.init(
            patchId: ours.patchId, buildId: ours.buildId, libraryPath: ours.lib, slide: slide,
            newBaseAddress: theirs.newBaseAddress, entries: entries, entryPatches: entryPatches)
    }
}

/// Our jump table JSON as `JumpTable.json()` writes it.
private struct LegacyWhiskerTable: Decodable {
    /// `["0xOLD", "0xNEW", size]`.
    struct EntryPatchRow: Decodable {
        let old: String
        let new: String
        let size: UInt64

        init(from decoder: any Decoder) throws {
            var row = try decoder.unkeyedContainer()
            old = try row.decode(String.self)
            new = try row.decode(String.self)
            size = try row.decode(UInt64.self)
        }
    }

    let patchId: Int
    let buildId: String
    let lib: String
    let aslrReference: String
    let map: [[String]]
    let entryPatches: [EntryPatchRow]?
}

/// subsecond's shape as `JumpTable.subsecondJSON()` writes it (only what ours lacks).
private struct LegacySubsecondTable: Decodable {
    let aslrReference: UInt64
    let newBaseAddress: UInt64

    enum CodingKeys: String, CodingKey {
        case aslrReference = "aslr_reference"
        case newBaseAddress = "new_base_address"
    }
}
