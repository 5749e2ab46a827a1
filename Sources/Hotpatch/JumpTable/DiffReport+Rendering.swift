extension DiffReport {
    /// `{"counts":{"added":N,"removed":N,"kept":N},"added":[…],"removed":[…],"kept":[…]}` with raw
    /// symbol names. `includeKept: false` leaves the (long) kept list out; its count stays.
    public func json(includeKept: Bool = true) -> String {
        var members: [(String, OrderedJSON)] = [
            ("counts", .object([("added", .integer(addedCount)), ("removed", .integer(removedCount)), ("kept", .integer(keptCount))])),
            ("added", .array(added.map(OrderedJSON.string))),
            ("removed", .array(removed.map(OrderedJSON.string))),
        ]
        if includeKept { members.append(("kept", .array(kept.map(OrderedJSON.string)))) }
        return OrderedJSON.object(members).rendered
    }

    /// The summary line, then `+ name` per added and `- name` per removed function (and
    /// `  name` per kept one if `listKept`), each through `displayName` (e.g. a demangler).
    public func text(listKept: Bool = false, displayName: (String) -> String = { $0 }) -> String {
        var lines = [summary]
        lines += added.map { "+ " + displayName($0) }
        lines += removed.map { "- " + displayName($0) }
        if listKept { lines += kept.map { "  " + displayName($0) } }
        return lines.joined(separator: "\n") + "\n"
    }
}
