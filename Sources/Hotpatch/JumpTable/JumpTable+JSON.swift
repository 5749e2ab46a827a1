extension JumpTable {
    /// Our format, the one `whisker_hot::apply_json` reads (see `docs/architecture.md`):
    /// `{"patchId","buildId","lib","aslrReference","newBase":"library","map":[["0xOLD","0xNEW"],…]}`
    /// with old addresses slid into the process and new ones relative to the library's base.
    /// `"entryPatches":[["0xOLD","0xNEW",size],…]` follows only when there are entry patches.
    public func json() -> String {
        let map = runtimeMap.map { pair in
            OrderedJSON.array([.string(HexAddress.format(pair.old)), .string(HexAddress.format(pair.new))])
        }
        var members: [(String, OrderedJSON)] = [
            ("patchId", .integer(patchId)),
            ("buildId", .string(buildId)),
            ("lib", .string(libraryPath)),
            ("aslrReference", .string(HexAddress.format(aslrReference))),
            ("newBase", .string("library")),
            ("map", .array(map)),
        ]
        if !entryPatches.isEmpty {
            let patches = runtimeEntryPatches.map { patch in
                OrderedJSON.array([
                    .string(HexAddress.format(patch.old)), .string(HexAddress.format(patch.new)), .unsigned(patch.size),
                ])
            }
            members.append(("entryPatches", .array(patches)))
        }
        return OrderedJSON.object(members).rendered
    }

    /// subsecond's shape: `{"lib","map":{"<old unslid>":<new>},"aslr_reference","new_base_address","ifunc_count"}`.
    ///
    /// Addresses are plain JSON numbers (serde's `u64`), the map's keys their decimal strings;
    /// old addresses are file addresses and `aslr_reference` is the anchor's file address, so the
    /// table is the same for every process of a build.
    public func subsecondJSON() -> String {
        let map = entries.map { entry in (String(entry.oldFileAddress), OrderedJSON.unsigned(entry.newAddress)) }
        return OrderedJSON.object([
            ("lib", .string(libraryPath)),
            ("map", .object(map)),
            ("aslr_reference", .unsigned(slide.anchorFileAddress)),
            ("new_base_address", .unsigned(newBaseAddress)),
            ("ifunc_count", .unsigned(0)),
        ]).rendered
    }
}
