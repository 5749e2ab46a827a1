import Foundation
import Testing
@testable import Hotpatch

/// The crate graph from captured `--extern`s and the rewritten commands of a multi-crate rebuild.
@Suite struct ThinBuildWorkspaceTests {
    let deps = "/proj/target/debug/deps"

    func capture(_ name: String, _ type: String, extra: String, externs: [String]) throws -> CapturedRustcInvocation {
        var arguments = ["--crate-name", name, "--edition=2021", "src/lib.rs", "--crate-type", type,
                         "-C", "metadata=m\(name)", "-C", "extra-filename=\(extra)", "-L", "dependency=\(deps)"]
        for extern in externs { arguments += ["--extern", extern] }
        return try CapturedRustcInvocation(rustc: "rustc", arguments: arguments, workingDirectory: "/proj", environment: [:])
    }

    /// app → (renamed) mid → base; app → base; other → base (not used by app); app → regex (registry).
    func captures() throws -> [CapturedRustcInvocation] {
        [
            try capture("app", "bin", extra: "-a1", externs: [
                "renamed=\(deps)/libmid-m2.rlib", "base=\(deps)/libbase-b3.rlib", "regex=\(deps)/libregex-r9.rlib",
            ]),
            try capture("mid", "lib", extra: "-m2", externs: ["noprelude:base=\(deps)/libbase-b3.rmeta"]),
            try capture("base", "lib", extra: "-b3", externs: []),
            try capture("other", "lib", extra: "-o4", externs: ["base=\(deps)/libbase-b3.rmeta"]),
        ]
    }

    @Test func edgesComeFromExternFilesWhateverTheAliasOrExtension() throws {
        let graph = CrateGraph(try captures())
        #expect(graph.dependencies["app-bin.json"] == ["mid-lib.json", "base-lib.json"])
        #expect(graph.dependencies["mid-lib.json"] == ["base-lib.json"])
        #expect(graph.reachable(from: "app-bin.json") == ["app-bin.json", "mid-lib.json", "base-lib.json"])
    }

    @Test func rebuildOrderIsDependenciesFirstAndOnlyAffectedCrates() throws {
        let graph = CrateGraph(try captures())
        let used = graph.reachable(from: "app-bin.json")
        #expect(graph.rebuildOrder(changed: ["base-lib.json"], within: used) == ["base-lib.json", "mid-lib.json", "app-bin.json"])
        #expect(graph.rebuildOrder(changed: ["mid-lib.json"], within: used) == ["mid-lib.json", "app-bin.json"])
        #expect(graph.rebuildOrder(changed: ["app-bin.json"], within: used) == ["app-bin.json"])
        // A library the binary doesn't use is not part of the running program.
        #expect(graph.rebuildOrder(changed: ["other-lib.json"], within: used).isEmpty)
    }

    @Test func dependentsCompileAgainstTheNewLibraryAndKeepTheirHashes() throws {
        let all = try captures()
        let out = URL(fileURLWithPath: "/cache/patches/2/obj")
        let base = ObjBuildPlan(invocation: all[2], outDirectory: out, emitsLibrary: true)
        #expect(base.arguments.suffix(4) == ["--emit=obj,dep-info,metadata,link", "--out-dir", out.path, "-Ccodegen-units=1"])
        #expect(base.arguments.first != "-L", "nothing rebuilt before it: search paths unchanged")
        let rlib = try #require(base.libraryPath?.path)
        #expect(rlib == "/cache/patches/2/obj/libbase-b3.rlib")

        let mid = ObjBuildPlan(invocation: all[1], outDirectory: out, extraArguments: ["-Ccode-model=large"],
                               emitsLibrary: true, rebuiltLibraries: ["libbase-b3": rlib])
        #expect(mid.arguments.starts(with: ["-L", "dependency=\(out.path)"]))
        #expect(mid.arguments.contains("noprelude:base=\(rlib)"))
        #expect(mid.arguments.contains("metadata=mmid") && mid.arguments.contains("extra-filename=-m2"))
        #expect(mid.arguments.last == "-Ccode-model=large")
        #expect(mid.captureFile == "mid-lib.json")

        let app = ObjBuildPlan(invocation: all[0], outDirectory: out, emitsLibrary: false,
                               rebuiltLibraries: ["libbase-b3": rlib, "libmid-m2": mid.libraryPath?.path ?? ""])
        #expect(app.arguments.contains("renamed=/cache/patches/2/obj/libmid-m2.rlib"))
        #expect(app.arguments.contains("base=\(rlib)"))
        #expect(app.arguments.contains("regex=\(deps)/libregex-r9.rlib"), "registry crates never change")
        #expect(app.libraryPath == nil && app.arguments.contains("--emit=obj,dep-info"))
    }

    @Test func plansStoredBeforeWorkspaceRebuildsStillDecode() throws {
        let plan = ObjBuildPlan(invocation: try captures()[0], outDirectory: URL(fileURLWithPath: "/o"))
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(plan)) as? [String: Any])
        object.removeValue(forKey: "captureFile")
        object.removeValue(forKey: "emitsLibrary")
        let old = try JSONDecoder().decode(ObjBuildPlan.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.captureFile == "" && !old.emitsLibrary && old.arguments == plan.arguments)

        let result = ThinBuildResult(objectPath: "/o/app.o", depInfoPath: "/o/app.d", diagnostics: "", phases: [], durationMs: 1,
                                     rustcStartedAt: 0, rustcCommand: "rustc", crates: [])
        var resultObject = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as? [String: Any])
        resultObject.removeValue(forKey: "crates")
        let oldResult = try JSONDecoder().decode(ThinBuildResult.self, from: JSONSerialization.data(withJSONObject: resultObject))
        #expect(oldResult.objectPaths == ["/o/app.o"])
    }
}
