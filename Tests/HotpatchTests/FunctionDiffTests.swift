import Foundation
import Hotpatch
import Testing

/// Per-function change detection on objects clang compiles on the spot, checked against
/// llvm-nm (which functions exist) and llvm-objdump (whose code differs).
@Suite struct FunctionDiffTests {
    /// Before the edit: seven functions, two string literals.
    static let before = """
        static int helper(int x) { return x * 3; }
        int moved(int x) { return x + 10; }
        int removed_fn(void) { return 1; }
        int caller(int x) { return helper(x) + 1; }
        int indirect(int x) { return caller(x) * 2; }
        const char *greet(void) { return "hello"; }
        int counter;
        int bump(void) { return ++counter; }
        int stable(int x) { return x - 1; }
        """

    /// After: `helper`'s body changed; `moved` moved to the end; `removed_fn` gone; `added_fn`
    /// new, with a literal placed before `greet`'s (so "hello" moves in `.rodata.str1.1`);
    /// `caller` and `indirect` untouched but reach `helper`.
    static let after = """
        int stable(int x) { return x - 1; }
        static int helper(int x) { return x * 4; }
        int caller(int x) { return helper(x) + 1; }
        int indirect(int x) { return caller(x) * 2; }
        const char *added_fn(void) { return "a brand new literal"; }
        const char *greet(void) { return "hello"; }
        int counter;
        int bump(void) { return ++counter; }
        int moved(int x) { return x + 10; }
        """

    static let flags = ["-O0", "-ffunction-sections", "-fdata-sections"]

    @Test func knownEditsGiveExactSets() throws {
        let directory = try LinkTestTools.makeScratchDirectory("fndiff-c")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = try LinkTestTools.compileC(Self.before, in: directory, name: "before", flags: Self.flags)
        let new = try LinkTestTools.compileC(Self.after, in: directory, name: "after", flags: Self.flags)

        let report = try DiffReport.make(oldObjects: [old], newObjects: [new])
        #expect(report.codeCompared)
        #expect(report.changed == ["helper"])
        #expect(report.added == ["added_fn"])
        #expect(report.removed == ["removed_fn"])
        #expect(report.unchanged == ["bump", "caller", "greet", "indirect", "moved", "stable"])
        #expect(report.callsChangedCode == ["caller", "indirect"])
        #expect(report.summary == "1 function changed, 1 added, 1 removed")

        // llvm-nm agrees on which functions each side defines.
        let nmOld = try LinkTestTools.nmSymbols(old).filter { ["T", "t"].contains($0.value.type) }
        let nmNew = try LinkTestTools.nmSymbols(new).filter { ["T", "t"].contains($0.value.type) }
        #expect(Set(nmOld.keys) == Set(report.kept + report.removed))
        #expect(Set(nmNew.keys) == Set(report.kept + report.added))

        // llvm-objdump agrees on whose instructions differ: `helper` does, the moved and
        // string-using functions do not (their relocations point elsewhere in the section, but at
        // the same things).
        #expect(try Self.disassembly(of: "helper", in: old) != Self.disassembly(of: "helper", in: new))
        for name in ["moved", "greet", "caller", "bump"] {
            #expect(try Self.disassembly(of: name, in: old) == Self.disassembly(of: name, in: new), "\(name)")
        }
    }

    @Test func identicalObjectsHaveNoChanges() throws {
        let directory = try LinkTestTools.makeScratchDirectory("fndiff-same")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let one = try LinkTestTools.compileC(Self.before, in: directory, name: "one", flags: Self.flags)
        let two = try LinkTestTools.compileC(Self.before, in: directory, name: "two", flags: Self.flags)
        let report = try DiffReport.make(oldObjects: [one], newObjects: [two])
        #expect(report.summary == "no functions changed")
        #expect(report.unchangedCount == 8)
    }

    /// What a function refers to is part of its identity: the same bytes calling another
    /// function, or loading another string, or another global, count as changed.
    @Test(arguments: [
        ("int a(void){return 1;} int b(void){return 2;} int f(void){return a();}", "int a(void){return 1;} int b(void){return 2;} int f(void){return b();}"),
        (#"const char *f(void){return "one";}"#, #"const char *f(void){return "two";}"#),
        ("int x; int y; int f(void){return x;}", "int x; int y; int f(void){return y;}"),
        ("int f(int x){return x + 1;}", "int f(int x){return x + 2;}"),
    ])
    func differentTargetsOrBytesAreChanges(old: String, new: String) throws {
        let directory = try LinkTestTools.makeScratchDirectory("fndiff-target")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = try LinkTestTools.compileC(old, in: directory, name: "old", flags: Self.flags)
        let after = try LinkTestTools.compileC(new, in: directory, name: "new", flags: Self.flags)
        let report = try DiffReport.make(oldObjects: [before], newObjects: [after])
        #expect(report.changed == ["f"], "\(report.text())")
    }

    /// AArch64 objects: the immediates relocations fill are masked, the rest compared.
    @Test func aarch64ObjectsCompareToo() throws {
        let directory = try LinkTestTools.makeScratchDirectory("fndiff-arm")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = ["-target", "aarch64-linux-gnu"] + Self.flags
        let old = try LinkTestTools.compileC(Self.before, in: directory, name: "before", flags: target)
        let new = try LinkTestTools.compileC(Self.after, in: directory, name: "after", flags: target)
        let report = try DiffReport.make(oldObjects: [old], newObjects: [new])
        #expect(report.changed == ["helper"])
        #expect(report.added == ["added_fn"])
        #expect(report.removed == ["removed_fn"])
        #expect(report.unchanged == ["bump", "caller", "greet", "indirect", "moved", "stable"])
    }

    /// 32-bit x86 objects use `SHT_REL`: the addend lives in the bytes the relocation patches.
    /// It is read before masking, so `t[1]` and `t[2]` still differ.
    @Test func implicitAddendsAreCompared() throws {
        let directory = try LinkTestTools.makeScratchDirectory("fndiff-rel")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = ["-target", "i386-linux-gnu", "-fno-pic"] + Self.flags
        let source = "int t[4]; int f(void){return t[1];} int g(void){return t[3];}"
        let old = try LinkTestTools.compileC(source, in: directory, name: "old", flags: target)
        let new = try LinkTestTools.compileC(
            source.replacingOccurrences(of: "t[1]", with: "t[2]"), in: directory, name: "new", flags: target)
        let relocations = try LinkTestTools.runChecked("readelf", ["-rW", new]).stdout
        #expect(relocations.contains(".rel.text.f"), "the object uses SHT_REL: \(relocations)")
        let report = try DiffReport.make(oldObjects: [old], newObjects: [new])
        #expect(report.changed == ["f"])
        #expect(report.unchanged == ["g"])
    }

    @Test func linkedFilesAndGarbageAreTypedErrors() throws {
        let directory = try LinkTestTools.makeScratchDirectory("fndiff-bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let object = try LinkTestTools.compileC("int f(void){return 1;}", in: directory, name: "f", flags: Self.flags)
        let library = directory + "/libf.so"
        try LinkTestTools.runChecked(LinkTestTools.clang, ["-shared", "-fuse-ld=lld", object, "-o", library])
        #expect(!FunctionDiff.isRelocatableELF(library))
        #expect(FunctionDiff.isRelocatableELF(object))
        #expect(throws: FunctionDiffError.self) { try DiffReport.make(oldObjects: [library], newObjects: [object]) }
        let garbage = directory + "/garbage.o"
        try Data("not an object".utf8).write(to: URL(fileURLWithPath: garbage))
        let error = #expect(throws: FunctionDiffError.self) { try DiffReport.make(oldObjects: [object], newObjects: [garbage]) }
        #expect(error?.code == "unreadable_object")
        #expect(error?.message.contains(garbage) == true)
    }

    /// Instructions of `function` as llvm-objdump prints them, without addresses and encodings,
    /// relocations omitted (their section-relative addends differ between the two objects).
    static func disassembly(of function: String, in object: String) throws -> [String] {
        let text = try LinkTestTools.runChecked(
            "llvm-objdump", ["-d", "--no-show-raw-insn", "--no-leading-addr", "--disassemble-symbols=\(function)", object]).stdout
        return text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(" ") || $0.hasPrefix("\t") }
    }
}
