extension DiffReport {
    /// The report as JSON with raw symbol names:
    /// `{"summary","codeCompared","baseline","counts":{"changed","added","removed","unchanged","kept"},
    /// "changed":[…],"added":[…],"removed":[…],"callsChangedCode":[…],"unchanged":[…],"kept":[…],
    /// "routed":[{"name","reason"}]}`. `includeKept: false` leaves the (long) unchanged and kept
    /// lists out; their counts stay.
    public func json(includeKept: Bool = true) -> String {
        var members: [(String, OrderedJSON)] = [
            ("summary", .string(summary)),
            ("codeCompared", .bool(codeCompared)),
            ("baseline", .string(baseline)),
            ("counts", .object([
                ("changed", .integer(changedCount)), ("added", .integer(addedCount)), ("removed", .integer(removedCount)),
                ("unchanged", .integer(unchangedCount)), ("kept", .integer(keptCount)),
            ])),
            ("changed", .array(changed.map(OrderedJSON.string))),
            ("added", .array(added.map(OrderedJSON.string))),
            ("removed", .array(removed.map(OrderedJSON.string))),
            ("callsChangedCode", .array(callsChangedCode.map(OrderedJSON.string))),
        ]
        if includeKept {
            members.append(("unchanged", .array(unchanged.map(OrderedJSON.string))))
            members.append(("kept", .array(kept.map(OrderedJSON.string))))
        }
        members.append(("routed", .array(routed.map { .object([("name", .string($0.name)), ("reason", .string($0.reason.rawValue))]) })))
        return OrderedJSON.object(members).rendered
    }

    /// The summary line, then `~ name` per changed, `+ name` per added and `- name` per removed
    /// function, `> name (calls changed code)` per unchanged caller of changed code, and with
    /// `listKept` `  name` per unchanged one (per kept one in a names-only report); each name
    /// through `displayName` (e.g. a demangler).
    public func text(listKept: Bool = false, displayName: (String) -> String = { $0 }) -> String {
        var lines = [summary]
        lines += changed.map { "~ " + displayName($0) }
        lines += added.map { "+ " + displayName($0) }
        lines += removed.map { "- " + displayName($0) }
        lines += callsChangedCode.map { "> " + displayName($0) + " (calls changed code)" }
        if listKept { lines += (codeCompared ? unchanged : kept).map { "  " + displayName($0) } }
        return lines.joined(separator: "\n") + "\n"
    }
}
