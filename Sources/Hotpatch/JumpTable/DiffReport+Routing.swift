/// Why the jump table routes one old function to its new code.
public enum RouteReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// Its own machine code (or what it references) changed.
    case changed = "changed"
    /// Its code is the same, but it calls or references changed code, directly or transitively.
    case callsChangedCode = "calls changed code"
    /// Neither: routed anyway because the table pairs every function both sides define, so no
    /// caller can reach stale code (correctness first).
    case conservative = "routed conservatively"
}

/// One jump-table entry of a patch and why it is there.
public struct RoutedFunction: Sendable, Hashable, Codable {
    public var name: String
    public var reason: RouteReason

    public init(name: String, reason: RouteReason) {
        self.name = name
        self.reason = reason
    }
}

extension DiffReport {
    /// The reason for each routed name (the jump table's `routed` list), sorted by name.
    public func reasons(forRouted names: [String]) -> [RoutedFunction] {
        let changedSet = Set(changed)
        let callers = Set(callsChangedCode)
        // Names the comparison never saw (outside the crate, or a names-only report) are routed
        // conservatively: nothing says their code changed.
        return Set(names).sorted().map { name in
            let reason: RouteReason =
                if changedSet.contains(name) {
                    .changed
                } else if callers.contains(name) {
                    .callsChangedCode
                } else {
                    .conservative
                }
            return RoutedFunction(name: name, reason: reason)
        }
    }

    /// The report with ``routed`` filled in from the jump table's routed names.
    public func routing(_ names: [String]) -> DiffReport {
        var copy = self
        copy.routed = reasons(forRouted: names)
        return copy
    }

    /// Routed entries per reason, in ``RouteReason`` order.
    public var routedCounts: [(reason: RouteReason, count: Int)] {
        RouteReason.allCases.map { reason in (reason, routed.filter { $0.reason == reason }.count) }
    }
}
