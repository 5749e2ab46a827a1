import Foundation
import Hotpatch
import Testing

/// Issue 6's "DiffReport counts for a known edit", from the CLI: the first patch is compared with
/// the fat build's codegen units, the next one with the previous patch's object; both name exactly
/// the edited functions and say why each jump-table entry is routed.
@Suite(.serialized) struct FunctionDiffPatchTests {
    @Test func knownEditsReportExactCountsPatchAfterPatch() throws {
        let workspace = try CounterWorkspace()
        _ = try workspace.build()
        let table = workspace.root.appendingPathComponent("table.json").path
        let patch = ["patch", "--project", workspace.project.path, "--aslr-reference", "0x555555560000", "--jump-table-out", table, "--json"]

        // Patch 1: message() returns another literal.
        try workspace.setMessage(from: "hello from counter", to: "hello from patch one")
        let first = try Self.diff(of: workspace.whiskerDev(patch))
        #expect(first.summary == "1 function changed")
        #expect(first.changed == ["counter::message"])
        #expect(first.baseline.hasPrefix("fat build "), "\(first.baseline)")
        #expect(first.reasons["counter::message"] == "changed")
        #expect(first.reasons["counter::tick"] == "calls changed code")
        #expect(first.reasons.values.contains("routed conservatively"))
        #expect(first.phases.contains("functionDiff"))

        // Patch 2: message() calls a new function appended to the file (no line above it moves).
        try workspace.editMain {
            $0.replacingOccurrences(of: "\"hello from patch one\"", with: "suffix()")
                + "\nfn suffix() -> &'static str {\n    \"hello from patch two\"\n}\n"
        }
        let second = try Self.diff(of: workspace.whiskerDev(patch))
        #expect(second.summary == "1 function changed, 1 added")
        #expect(second.changed == ["counter::message"])
        #expect(second.added == ["counter::suffix"])
        #expect(second.baseline.hasPrefix("patch 1 "), "\(second.baseline)")
        #expect(second.reasons["counter::main"] == "calls changed code")
        #expect(second.reasons["counter::suffix"] == nil, "an added function has no old code to route")
    }

    struct Diff {
        var summary: String
        var changed: [String]
        var added: [String]
        var baseline: String
        /// Demangled name → reason (names routed more than once, e.g. closures of one function, keep the last).
        var reasons: [String: String]
        var phases: [String]
    }

    static func diff(of result: CommandResult) throws -> Diff {
        try #require(result.succeeded, "patch failed: \(result.stderrText)")
        let plan = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let diff = try #require(plan["diff"] as? [String: Any])
        let demangle = { (name: String) in RustDemangler.demangle(name) ?? name }
        let routed = (diff["routed"] as? [[String: String]]) ?? []
        return Diff(
            summary: diff["summary"] as? String ?? "",
            changed: ((diff["changed"] as? [String]) ?? []).map(demangle),
            added: ((diff["added"] as? [String]) ?? []).map(demangle),
            baseline: diff["baseline"] as? String ?? "",
            reasons: Dictionary(routed.map { (demangle($0["name"] ?? ""), $0["reason"] ?? "") }, uniquingKeysWith: { $1 }),
            phases: ((plan["phases"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
    }
}
