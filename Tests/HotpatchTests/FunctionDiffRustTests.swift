import Foundation
@testable import Hotpatch
import Testing

/// Per-function change detection on objects rustc compiles on the spot, the way the thin rebuild
/// does (`--emit=obj`, one codegen unit, the same `-C metadata`), and against the codegen units an
/// incremental fat build leaves behind.
@Suite(.serialized) struct FunctionDiffRustTests {
    /// A std-only crate with generics (three instantiations), closures, a trait object, an
    /// atomic static and string literals.
    static let crateV1 = """
        use std::sync::atomic::{AtomicU64, Ordering};
        static HITS: AtomicU64 = AtomicU64::new(0);
        pub trait Shape { fn area(&self) -> f64; }
        pub struct Square(pub f64);
        impl Shape for Square { fn area(&self) -> f64 { self.0 * self.0 } }
        pub fn describe<T: std::fmt::Debug>(value: T) -> String { format!("<{:?}>", value) }
        pub fn generic_users() -> String { describe(1u8) + &describe("two") + &describe(3.0f32) }
        pub fn doubled(values: &[i64]) -> Vec<i64> { values.iter().map(|v| v * 2).collect() }
        pub fn dyn_area(shape: &dyn Shape) -> f64 { shape.area() }
        pub fn hit() -> u64 { HITS.fetch_add(1, Ordering::Relaxed) }
        pub fn message() -> &'static str { "unchanged message" }
        pub fn edited(x: u64) -> u64 { x.wrapping_mul(3) }
        """

    /// One body changed in place (no line moves, so no panic location moves) and one function
    /// added at the end.
    static let crateV2 = crateV1.replacingOccurrences(of: "x.wrapping_mul(3)", with: "x.wrapping_mul(5) ^ 1")
        + "\npub fn added_later(x: u64) -> u64 { x ^ 0x55 }\n"

    @Test func knownEditIsOneChangedOneAdded() throws {
        let directory = try Tools.temporaryDirectory("fndiff-rust")
        defer { try? FileManager.default.removeItem(at: directory) }
        let old = try Self.compileObject(Self.crateV1, in: directory.appendingPathComponent("v1"))
        let new = try Self.compileObject(Self.crateV2, in: directory.appendingPathComponent("v2"))

        let report = try DiffReport.make(oldObjects: [old], newObjects: [new])
        #expect(report.summary == "1 function changed, 1 added")
        #expect(report.changed.map(Self.demangled) == ["fxcrate::edited"])
        #expect(report.added.map(Self.demangled) == ["fxcrate::added_later"])
        #expect(report.removed.isEmpty)
        // Generic instantiations, closures, trait impls and std code instantiated here stay unchanged.
        let unchanged = report.unchanged.map(Self.demangled)
        #expect(unchanged.filter { $0 == "fxcrate::describe" }.count == 3)
        #expect(unchanged.contains("fxcrate::doubled::{{closure}}"))
        #expect(unchanged.contains("<fxcrate::Square as fxcrate::Shape>::area"))
        #expect(unchanged.contains("fxcrate::hit"))
        #expect(unchanged.contains("fxcrate::message"))
        #expect(unchanged.count > 20, "std generics instantiated in the crate count too: \(unchanged.count)")

        // llvm-nm: the sets cover exactly the functions each object defines.
        let defined = { (path: String) in
            try Set(LLVMNm.symbols(path).filter { "tTW".contains($0.type) && !$0.name.isEmpty }.map(\.name))
        }
        #expect(try defined(old) == Set(report.kept + report.removed))
        #expect(try defined(new) == Set(report.kept + report.added))
    }

    @Test func recompilingTheSameSourcesChangesNothing() throws {
        let directory = try Tools.temporaryDirectory("fndiff-rust-same")
        defer { try? FileManager.default.removeItem(at: directory) }
        let one = try Self.compileObject(Self.crateV1, in: directory.appendingPathComponent("one"))
        let two = try Self.compileObject(Self.crateV1, in: directory.appendingPathComponent("two"))
        let report = try DiffReport.make(oldObjects: [one], newObjects: [two])
        #expect(report.summary == "no functions changed")
        #expect(report.unchangedCount == report.keptCount)
    }

    /// The first patch's baseline: a fat-style build (incremental, many codegen units) leaves its
    /// objects in the session directory; the thin object of the same sources matches them
    /// function for function, and an edit shows as exactly that edit.
    @Test func incrementalCodegenUnitsAreAnExactBaseline() throws {
        let directory = try Tools.temporaryDirectory("fndiff-rust-inc")
        defer { try? FileManager.default.removeItem(at: directory) }
        let rustc = try #require(RustProgram.rustc, "rustc is not installed")
        let source = Self.crateV1 + "\nfn main() { println!(\"{} {}\", generic_users(), edited(hit())); }\n"
        let fat = directory.appendingPathComponent("fat")
        try FileManager.default.createDirectory(at: fat, withIntermediateDirectories: true)
        try source.write(to: fat.appendingPathComponent("lib.rs"), atomically: true, encoding: .utf8)
        let incremental = directory.appendingPathComponent("incremental")
        _ = try Tools.runChecked(rustc, [
            "--crate-name", "fxcrate", "--crate-type", "bin", "--edition", "2021", "-C", "metadata=0123abcd",
            "-C", "incremental=\(incremental.path)", "-C", "codegen-units=16", "--remap-path-prefix", "\(fat.path)=src",
            "-o", fat.appendingPathComponent("fxcrate").path, fat.appendingPathComponent("lib.rs").path,
        ])
        let thin = try Self.compileObject(source, in: directory.appendingPathComponent("thin"), crateType: "bin")
        let units = try #require(DiffBaseline.fatBuildObjects(
            incrementalDirectory: incremental, crateName: "fxcrate", notNewerThan: Date(), newObjects: [thin]))
        #expect(units.count > 1, "several codegen units: \(units)")

        let same = try DiffReport.make(oldObjects: units, newObjects: [thin])
        #expect(same.summary == "no functions changed", "\(same.text())")

        let edited = source.replacingOccurrences(of: "x.wrapping_mul(3)", with: "x.wrapping_mul(7)")
        let thinEdited = try Self.compileObject(edited, in: directory.appendingPathComponent("thin2"), crateType: "bin")
        let report = try DiffReport.make(oldObjects: units, newObjects: [thinEdited])
        #expect(report.summary == "1 function changed")
        #expect(report.changed.map(Self.demangled) == ["fxcrate::edited"])
        #expect(report.callsChangedCode.map(Self.demangled).contains("fxcrate::main"))

        // A session newer than the binary belongs to a later build: not this build's baseline.
        #expect(DiffBaseline.fatBuildObjects(
            incrementalDirectory: incremental, crateName: "fxcrate", notNewerThan: Date(timeIntervalSinceNow: -3600),
            newObjects: [thin]) == nil)
    }

    /// `rustc --emit=obj -Ccodegen-units=1` of `source` saved as `lib.rs` in `directory` (its path
    /// remapped, so panic locations name the same file in every version).
    static func compileObject(_ source: String, in directory: URL, crateType: String = "lib") throws -> String {
        let rustc = try #require(RustProgram.rustc, "rustc is not installed")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try source.write(to: directory.appendingPathComponent("lib.rs"), atomically: true, encoding: .utf8)
        let output = directory.appendingPathComponent("fxcrate.o").path
        let result = try Tools.run(rustc, [
            "--crate-name", "fxcrate", "--crate-type", crateType, "--edition", "2021", "-C", "metadata=0123abcd",
            "-C", "codegen-units=1", "--emit=obj", "--remap-path-prefix", "\(directory.path)=src", "-o", output,
            directory.appendingPathComponent("lib.rs").path,
        ])
        try #require(result.status == 0, "rustc failed: \(result.stderr)")
        return output
    }

    static func demangled(_ name: String) -> String {
        RustDemangler.demangle(name) ?? name
    }
}
