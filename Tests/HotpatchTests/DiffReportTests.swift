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
        #expect(report.summary == "3 functions added, 1 removed, 1 kept")
        #expect(report.text() == "3 functions added, 1 removed, 1 kept\n+ also_fresh\n+ data_only\n+ fresh\n- gone\n")
        #expect(report.text(listKept: true, displayName: { $0.uppercased() }).hasSuffix("- GONE\n  KEPT\n"))
        #expect(report.json() == #"{"counts":{"added":3,"removed":1,"kept":1},"added":["also_fresh","data_only","fresh"],"removed":["gone"],"kept":["kept"]}"#)
        #expect(report.json(includeKept: false) == #"{"counts":{"added":3,"removed":1,"kept":1},"added":["also_fresh","data_only","fresh"],"removed":["gone"]}"#)
    }

    @Test func singularSummary() {
        let report = DiffReport(added: ["a"], removed: [], kept: [])
        #expect(report.summary == "1 function added, 0 removed, 0 kept")
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
        let report = try DiffReport.between(oldPath: before, newPath: after)
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
        #expect(throws: SymbolLoadingError.self) { try DiffReport.between(oldPath: bogus, newPath: bogus) }
    }
}
