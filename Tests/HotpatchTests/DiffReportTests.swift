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

    @Test func diffCommandSeamSaysWhatIsMissing() {
        do {
            _ = try DiffReport.between(oldPath: "/bin/true", newPath: "/bin/false")
            Issue.record("the placeholder seam returned symbols; update this test now that the reader is wired in")
        } catch let error as SymbolLoadingError {
            #expect(error.code == "symbol_reader_unavailable")
            #expect(error.message.contains("/bin/true"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
