import Foundation
import Hotpatch
import Testing

@Suite struct DiffReportTests {
    @Test func comparesDefinedFunctionsByName() {
        let report = DiffReport(
            oldFunctions: [
                SymbolInfo(name: "kept", address: 1, kind: .function),
                SymbolInfo(name: "kept", address: 2, kind: .function, binding: .local),
                SymbolInfo(name: "gone", address: 3, kind: .function),
                SymbolInfo(name: "data_only", address: 4, kind: .data),
                SymbolInfo(name: "called", address: 0, kind: .function, isDefined: false),
            ],
            newFunctions: [
                SymbolInfo(name: "kept", address: 9, kind: .function),
                SymbolInfo(name: "fresh", address: 8, kind: .function),
                SymbolInfo(name: "also_fresh", address: 7, kind: .function),
                SymbolInfo(name: "data_only", address: 6, kind: .function),
                SymbolInfo(name: "gone", address: 0, kind: .function, isDefined: false),
            ])
        #expect(report.added == ["also_fresh", "data_only", "fresh"])
        #expect(report.removed == ["gone"])
        #expect(report.kept == ["kept"])
        #expect(!report.codeCompared)
        #expect(report.summary == "3 functions added, 1 removed, 1 kept (code not compared)")
        #expect(report.text() == "3 functions added, 1 removed, 1 kept (code not compared)\n+ also_fresh\n+ data_only\n+ fresh\n- gone\n")
        #expect(report.text(listKept: true, displayName: { $0.uppercased() }).hasSuffix("- GONE\n  KEPT\n"))
        #expect(report.json() == #"{"summary":"3 functions added, 1 removed, 1 kept (code not compared)","codeCompared":false,"baseline":"","counts":{"changed":0,"added":3,"removed":1,"unchanged":0,"kept":1},"changed":[],"added":["also_fresh","data_only","fresh"],"removed":["gone"],"callsChangedCode":[],"unchanged":[],"kept":["kept"],"routed":[]}"#)
        #expect(report.json(includeKept: false) == #"{"summary":"3 functions added, 1 removed, 1 kept (code not compared)","codeCompared":false,"baseline":"","counts":{"changed":0,"added":3,"removed":1,"unchanged":0,"kept":1},"changed":[],"added":["also_fresh","data_only","fresh"],"removed":["gone"],"callsChangedCode":[],"routed":[]}"#)
    }

    /// The summary names the non-zero parts in the order changed, added, removed; the first
    /// carries the noun, singular for one.
    @Test(arguments: [
        (0, 0, 0, 0, "no functions changed"),
        (0, 0, 0, 5, "no functions changed"),
        (3, 1, 0, 9, "3 functions changed, 1 added"),
        (1, 0, 0, 0, "1 function changed"),
        (1, 2, 3, 0, "1 function changed, 2 added, 3 removed"),
        (0, 1, 0, 0, "1 function added"),
        (0, 0, 2, 1, "2 functions removed"),
        (0, 2, 1, 0, "2 functions added, 1 removed"),
        (2, 0, 1, 0, "2 functions changed, 1 removed"),
    ])
    func summaryOmitsZeroParts(changed: Int, added: Int, removed: Int, unchanged: Int, expected: String) {
        let names = { (prefix: String, count: Int) in (0..<count).map { "\(prefix)\($0)" } }
        let report = DiffReport(
            added: names("a", added), removed: names("r", removed), changed: names("c", changed), unchanged: names("u", unchanged))
        #expect(report.summary == expected)
        #expect(report.codeCompared)
        #expect(report.kept == (names("c", changed) + names("u", unchanged)).sorted())
        #expect(report.keptCount == changed + unchanged)
    }

    @Test func namesOnlySummaries() {
        #expect(DiffReport(added: ["a"], removed: [], kept: []).summary == "1 function added")
        #expect(DiffReport(added: [], removed: [], kept: []).summary == "no functions changed")
        #expect(DiffReport(added: [], removed: [], kept: ["k", "l"]).summary == "2 functions kept (code not compared)")
    }

    /// Routing reasons: changed, calls changed code, or routed conservatively; sorted by name,
    /// each name once; JSON and text show them.
    @Test func routingReasons() {
        let report = DiffReport(
            added: ["new"], removed: [], changed: ["body"], unchanged: ["caller", "other", "top"],
            callsChangedCode: ["caller", "top"], baseline: "objects old.o")
            .routing(["top", "body", "other", "caller", "body", "outside"])
        #expect(report.routed == [
            RoutedFunction(name: "body", reason: .changed),
            RoutedFunction(name: "caller", reason: .callsChangedCode),
            RoutedFunction(name: "other", reason: .conservative),
            RoutedFunction(name: "outside", reason: .conservative),
            RoutedFunction(name: "top", reason: .callsChangedCode),
        ])
        #expect(report.routedCounts.map(\.count) == [1, 2, 2])
        #expect(report.json(includeKept: false).hasSuffix(#""routed":[{"name":"body","reason":"changed"},{"name":"caller","reason":"calls changed code"},{"name":"other","reason":"routed conservatively"},{"name":"outside","reason":"routed conservatively"},{"name":"top","reason":"calls changed code"}]}"#))
        #expect(report.text() == "1 function changed, 1 added\n~ body\n+ new\n> caller (calls changed code)\n> top (calls changed code)\n")
        // A names-only report routes everything conservatively: nothing says what changed.
        let namesOnly = DiffReport(added: [], removed: [], kept: ["body"]).routing(["body"])
        #expect(namesOnly.routed == [RoutedFunction(name: "body", reason: .conservative)])
    }

    /// Two versions of a C file compiled by clang, read back with readelf: the report names
    /// exactly the functions the edit added and removed.
    @Test func reportsTheEditBetweenTwoCompiledObjects() throws {
        let directory = try LinkTestTools.makeScratchDirectory("diff")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = try LinkTestTools.compileC(
            """
            int counter;
            static int helper(int x) { return x * 3; }
            int tick(int x) { counter++; return helper(x); }
            int old_only(void) { return 1; }
            """, in: directory, name: "before", flags: ["-O0"])
        let after = try LinkTestTools.compileC(
            """
            int counter;
            static int helper(int x) { return x * 4; }
            int tick(int x) { counter++; return helper(x) + added(x); }
            int added(int x) { return x; }
            """.replacingOccurrences(of: "int counter;", with: "int counter; int added(int);"),
            in: directory, name: "after", flags: ["-O0"])
        let report = DiffReport(
            oldFunctions: try LinkTestTools.readelfSymbols(before), newFunctions: try LinkTestTools.readelfSymbols(after))
        #expect(report.added == ["added"])
        #expect(report.removed == ["old_only"])
        #expect(report.kept == ["helper", "tick"])
        // Cross-check the function names against llvm-nm's view of the same objects.
        let nmAfter = try LinkTestTools.nmSymbols(after).filter { ["T", "t"].contains($0.value.type) }
        #expect(Set(nmAfter.keys) == Set(report.added + report.kept))
    }

    /// `DiffReport.between` reads both files with the pipeline's own reader and agrees with
    /// readelf's view of the same objects.
    @Test func betweenReadsBothFilesWithTheSymbolTableReader() throws {
        let directory = try LinkTestTools.makeScratchDirectory("diff-between")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = try LinkTestTools.compileC(
            "int kept(int x) { return x; }\nint gone(void) { return 1; }\n", in: directory, name: "before", flags: ["-O0"])
        let after = try LinkTestTools.compileC(
            "int kept(int x) { return x + 1; }\nint fresh(void) { return 2; }\n", in: directory, name: "after", flags: ["-O0"])
        let report = try DiffReport.make(oldBinary: before, newBinary: after)
        let expected = DiffReport(
            oldFunctions: try LinkTestTools.readelfSymbols(before), newFunctions: try LinkTestTools.readelfSymbols(after))
        #expect(report == expected)
        #expect(report.added == ["fresh"])
        #expect(report.removed == ["gone"])
        #expect(report.kept == ["kept"])
    }

    @Test func betweenRejectsAnUnreadableFile() throws {
        let directory = try LinkTestTools.makeScratchDirectory("diff-bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bogus = directory + "/not-an-object"
        try Data("definitely not ELF".utf8).write(to: URL(fileURLWithPath: bogus))
        #expect(throws: SymbolLoadingError.self) { try DiffReport.make(oldBinary: bogus, newBinary: bogus) }
    }
}
