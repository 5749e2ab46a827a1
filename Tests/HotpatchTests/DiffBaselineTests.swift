import Foundation
@testable import Hotpatch
import Testing

/// Which committed patch a later patch (or a later link of an earlier patch) is compared with.
@Suite struct DiffBaselineTests {
    @Test func theNewestPatchBelowThatCompiledTheCrateWins() throws {
        let build = try #require(BuildID("b20261125-080000-abcdef"))
        let record = BaselineRecord(buildId: build, patches: [
            .init(patchId: 1, crates: ["app": ["/p/1/obj/app.o"]]),
            .init(patchId: 2, crates: ["lib": ["/p/2/obj/lib.o"]]),
            .init(patchId: 4, crates: ["app": ["/p/4/obj/app.o"], "lib": ["/p/4/obj/lib.o"]]),
        ])
        #expect(record.entry(below: 5, crate: "app")?.patchId == 4)
        #expect(record.entry(below: 4, crate: "app")?.objects == ["/p/1/obj/app.o"])
        #expect(record.entry(below: 4, crate: "lib")?.patchId == 2)
        #expect(record.entry(below: 1, crate: "app") == nil)
        #expect(record.entry(below: 9, crate: "other") == nil)

        // The file round-trips through the pipeline's JSON coder.
        let data = try JSONFile.encode(record)
        #expect(try JSONDecoder().decode(BaselineRecord.self, from: data) == record)
    }
}
