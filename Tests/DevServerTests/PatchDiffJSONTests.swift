@testable import DevServer
import HTTP
import Testing

/// A patch's `diff.functions` as the page lists them: demangled, changed then added then removed,
/// at most `patchFunctionLimit` of each kind.
@Suite struct PatchDiffJSONTests {
    static func mangled(_ name: String) -> String { "_ZN7counter\(name.count)\(name)17h0123456789abcdefE" }

    @Test func functionsAreDemangledInOrderAndBoundedPerKind() throws {
        let changed = (0..<250).map { Self.mangled("f\($0)") }
        let added = [Self.mangled("message")]
        let removed = (0..<3).map { Self.mangled("old\($0)") }
        let limit = RecordJSON.patchFunctionLimit
        let bounded = try #require(RecordJSON.functions(changed: changed, added: added, removed: removed, limit: limit).arrayValue)
        #expect(bounded.count == limit + 1 + 3)
        #expect(bounded.first?["demangled"] == "counter::f0" && bounded.first?["change"] == "changed")
        #expect(bounded[limit - 1]["demangled"]?.stringValue == "counter::f\(limit - 1)")
        #expect(bounded[limit]["demangled"] == "counter::message" && bounded[limit]["change"] == "added")
        #expect(bounded[limit]["name"] == .string(added[0]), "the mangled name stays")
        #expect(bounded.last?["demangled"] == "counter::old2" && bounded.last?["change"] == "removed")
        // Without a limit (POST /api/diffs): every one.
        #expect(RecordJSON.functions(changed: changed, added: added, removed: removed).arrayValue?.count == 254)
    }
}
