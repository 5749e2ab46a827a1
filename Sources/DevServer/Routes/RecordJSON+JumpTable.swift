import HTTP
import Hotpatch

/// Jump tables as the API shows them, built straight from the `JumpTable` value: the same
/// members, in the same order and with the same types as `JumpTable.json()` and
/// `subsecondJSON()` write (`docs/architecture.md`), so nothing renders a text to parse it again.
extension RecordJSON {
    /// Ours, the shape `whisker_hot::apply_json` reads: `{"patchId","buildId","lib",
    /// "aslrReference","newBase":"library","map":[["0xOLD","0xNEW"],…]}`, then `entryPatches`
    /// when there are any.
    static func jumpTable(_ table: JumpTable) -> JSONValue {
        var object: JSONObject = [
            "patchId": .int(Int64(table.patchId)),
            "buildId": .string(table.buildId),
            "lib": .string(table.libraryPath),
            "aslrReference": hex(table.aslrReference),
            "newBase": "library",
            "map": .array(table.runtimeMap.map { .array([hex($0.old), hex($0.new)]) }),
        ]
        if !table.entryPatches.isEmpty {
            object["entryPatches"] = .array(table.runtimeEntryPatches.map { .array([hex($0.old), hex($0.new), number($0.size)]) })
        }
        return .object(object)
    }

    /// subsecond's: `{"lib","map":{"<old unslid>":<new>},"aslr_reference","new_base_address",
    /// "ifunc_count":0}`, addresses as JSON numbers.
    static func subsecondJumpTable(_ table: JumpTable) -> JSONValue {
        [
            "lib": .string(table.libraryPath),
            "map": .object(JSONObject(table.entries.map { (String($0.oldFileAddress), number($0.newAddress)) })),
            "aslr_reference": number(table.slide.anchorFileAddress),
            "new_base_address": number(table.newBaseAddress),
            "ifunc_count": 0,
        ]
    }

    /// An unsigned JSON number. File addresses, library offsets and sizes stay far below 2^63
    /// (user space ends at 2^47); one that did not would be clamped, not wrapped.
    private static func number(_ value: UInt64) -> JSONValue {
        .int(Int64(clamping: value))
    }
}
