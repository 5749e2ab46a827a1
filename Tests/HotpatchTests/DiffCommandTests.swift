import Foundation
import Hotpatch
import Testing

/// `whisker-dev diff OLD NEW [--json]` as a user runs it: objects are compared per function,
/// linked files by name.
@Suite(.serialized) struct DiffCommandTests {
    @Test func objectsShowChangedAddedRemovedCounts() throws {
        let directory = try LinkTestTools.makeScratchDirectory("diff-cli")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = try LinkTestTools.compileC(FunctionDiffTests.before, in: directory, name: "before", flags: FunctionDiffTests.flags)
        let new = try LinkTestTools.compileC(FunctionDiffTests.after, in: directory, name: "after", flags: FunctionDiffTests.flags)
        let whiskerDev = try SymbolTableCLITests.whiskerDev()

        let text = try LinkTestTools.runChecked(whiskerDev, ["diff", old, new]).stdout
        #expect(text == """
            1 function changed, 1 added, 1 removed
            ~ helper
            + added_fn
            - removed_fn
            > caller (calls changed code)
            > indirect (calls changed code)

            """)
        let listed = try LinkTestTools.runChecked(whiskerDev, ["diff", old, new, "--list-kept"]).stdout
        #expect(listed.hasSuffix("  bump\n  caller\n  greet\n  indirect\n  moved\n  stable\n"))

        let json = try LinkTestTools.runChecked(whiskerDev, ["diff", old, new, "--json"]).stdout
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["summary"] as? String == "1 function changed, 1 added, 1 removed")
        #expect(object["codeCompared"] as? Bool == true)
        let counts = try #require(object["counts"] as? [String: Int])
        #expect(counts == ["changed": 1, "added": 1, "removed": 1, "unchanged": 6, "kept": 7])
        #expect(object["changed"] as? [String] == ["helper"])
        #expect(object["unchanged"] as? [String] == ["bump", "caller", "greet", "indirect", "moved", "stable"])

        let names = try LinkTestTools.runChecked(whiskerDev, ["diff", old, new, "--names-only"]).stdout
        #expect(names.hasPrefix("1 function added, 1 removed, 7 kept (code not compared)\n"))
    }

    @Test func linkedLibrariesAreComparedByName() throws {
        let directory = try LinkTestTools.makeScratchDirectory("diff-cli-so")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let whiskerDev = try SymbolTableCLITests.whiskerDev()
        var libraries: [String] = []
        for (name, source) in [("old", "int kept(int x){return x;} int gone(void){return 1;}"), ("new", "int kept(int x){return x+1;} int fresh(void){return 2;}")] {
            let object = try LinkTestTools.compileC(source, in: directory, name: name, flags: FunctionDiffTests.flags)
            let library = "\(directory)/lib\(name).so"
            try LinkTestTools.runChecked(LinkTestTools.clang, ["-shared", "-fuse-ld=lld", "-nostdlib", object, "-o", library])
            libraries.append(library)
        }
        let text = try LinkTestTools.runChecked(whiskerDev, ["diff", libraries[0], libraries[1]]).stdout
        #expect(text == "1 function added, 1 removed, 1 kept (code not compared)\n+ fresh\n- gone\n")
    }

    @Test func unreadableInputIsAnErrorNotACrash() throws {
        let directory = try LinkTestTools.makeScratchDirectory("diff-cli-bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let whiskerDev = try SymbolTableCLITests.whiskerDev()
        let output = try LinkTestTools.run(whiskerDev, ["diff", directory + "/missing.o", directory + "/missing.o"])
        #expect(output.status != 0)
        #expect(output.stderr.contains("missing.o"))
    }
}
