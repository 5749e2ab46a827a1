import Foundation
@testable import Hotpatch

/// The pipeline's values as a fake pipeline hands them to a session: a fat build, a stored
/// compilation, a patch plan, a jump table. Small and made up (no file behind any path), but of
/// the real types, so the session records, journals and serves them as it would real ones.
enum PipelineFixtures {
    /// The file address of the fake binary's `main`.
    static let anchor: UInt64 = 0x1000

    static func fatBuild(_ id: BuildID, root: URL) -> FatBuild {
        let directory = root.appendingPathComponent("builds/\(id.rawValue)").path
        return FatBuild(
            id: id, project: root.path, binary: directory + "/bin/app", originalBinary: root.path + "/target/debug/app",
            symbols: 1234, durationMs: 11, phases: buildPhases, crates: [], target: "x86_64-unknown-linux-gnu",
            host: "x86_64-unknown-linux-gnu", profile: "debug", bin: nil, package: nil, tipCapture: "app-bin.json",
            linkerCapture: "0.json", linker: ResolvedLinker(command: "cc", source: "default"),
            buildDirectory: directory, captureDirectory: directory + "/captures", targetDirectory: root.path + "/target",
            logPath: directory + "/build.log", startedAt: "2026-11-25T06:15:00Z", cargoCommand: ["cargo", "build"],
            recaptures: 0, pipelineVersion: FatBuild.currentPipelineVersion)
    }

    /// What a fat build reports, phase by phase.
    static let buildPhases = [PhaseTiming(name: "prepare", durationMs: 1), PhaseTiming(name: "cargo", durationMs: 10)]

    /// A compilation of the binary crate `app`, as a patch record stores it.
    static func storedCompilation(build: BuildID, patch: Int, root: URL) throws -> StoredCompilation {
        let out = root.appendingPathComponent("patches/\(patch)/obj").path
        let step = objectPlan(out: out)
        return try decode(StoredCompilation.self, [
            "buildId": build.rawValue, "patchId": patch,
            "thinPlan": [
                "buildId": build.rawValue, "patchId": patch, "crateName": "app",
                "changes": [
                    "changed": [[
                        "crateName": "app", "crateTypes": ["bin"], "captureFile": "app-bin.json", "isBinary": true,
                        "changedFiles": [root.path + "/src/main.rs"],
                    ]],
                    "current": [], "filesChecked": 1, "filesHashed": 1,
                ],
                "objectPlan": step, "steps": [step], "changeDetectionMs": 0.5,
            ],
            "thinResult": [
                "objectPath": out + "/app-0123.o", "depInfoPath": out + "/app-0123.d", "diagnostics": "",
                "phases": [["name": "rustc app", "durationMs": 5]], "durationMs": 5, "rustcStartedAt": 0,
                "rustcCommand": "rustc", "crates": [],
            ],
            "objects": [out + "/app-0123.o"],
            "phases": [["name": "changeDetection", "durationMs": 0.5], ["name": "rustc", "durationMs": 5]],
        ])
    }

    /// The plan of one link of `patch`.
    static func plan(patch: Int, build: BuildID, library: String, aslrReference: UInt64, mode: PatchLinkMode, root: URL) throws -> PatchPlan {
        try decode(PatchPlan.self, [
            "patchId": patch, "buildId": build.rawValue, "project": root.path, "state": "linked",
            "cratesRebuilt": ["app"], "changedFiles": [root.path + "/src/main.rs"],
            "objectPlan": objectPlan(out: root.appendingPathComponent("patches/\(patch)/obj").path),
            "objects": [root.path + "/patches/\(patch)/obj/app-0123.o"],
            "stub": ["trampolines": 0, "absoluteData": 0, "boundByLoader": 0, "leftUndefined": 0],
            "library": [
                "path": library, "size": 4096, "sha256": String(repeating: String(patch % 10), count: 64),
                "aslrReference": HexAddress.format(aslrReference),
                "linkPlan": ["linker": "cc", "arguments": ["-shared"], "outputPath": library, "environment": [:], "os": "linux"],
                "routedFunctions": 1, "linkMode": mode.rawValue,
            ],
            "diff": ["added": [], "removed": [], "keptCount": 1, "summary": "1 function changed", "changed": ["_ZN3app4main17h0123E"]],
            "phases": [["name": "changeDetection", "durationMs": 0.5], ["name": "rustc", "durationMs": 5], ["name": "link", "durationMs": 2]],
            "durationMs": 7.5, "diagnostics": "", "createdAt": "2026-11-25T06:15:01Z",
        ])
    }

    /// A jump table routing one function, for the process at `aslrReference`; with
    /// `entryPatches`, one entry patch too.
    static func jumpTable(patch: Int, build: BuildID, library: String, aslrReference: UInt64, entryPatches: Bool = false) -> JumpTable {
        JumpTable(
            patchId: patch, buildId: build.rawValue, libraryPath: library,
            slide: ASLRSlide(aslrReference: aslrReference, anchorFileAddress: anchor), newBaseAddress: 0x40,
            entries: [
                JumpTable.Entry(oldFileAddress: 0x1200, newAddress: 0x2a0 + UInt64(patch)),
                JumpTable.Entry(oldFileAddress: 0x1340, newAddress: 0x310),
            ],
            entryPatches: entryPatches ? [JumpTable.EntryPatch(oldFileAddress: 0x1200, newAddress: 0x2a0, oldSize: 48)] : [])
    }

    static func toolchain() -> RustcVersion? {
        RustcVersion(parsing: "rustc 1.95.0 (59807616e 2026-04-14)\nrelease: 1.95.0\nhost: x86_64-unknown-linux-gnu")
    }

    private static func objectPlan(out: String) -> [String: Any] {
        [
            "rustc": "rustc", "arguments": ["--crate-name", "app"], "environment": [:], "workingDirectory": "/",
            "outDirectory": out, "crateName": "app", "extraFilename": "-0123", "extraArguments": [],
            "captureFile": "app-bin.json",
        ]
    }

    private static func decode<Value: Decodable>(_ type: Value.Type, _ object: [String: Any]) throws -> Value {
        try JSONDecoder().decode(type, from: JSONSerialization.data(withJSONObject: object))
    }
}
