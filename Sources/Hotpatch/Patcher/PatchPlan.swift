import Foundation

/// Everything one patch did and produced: which crates were rebuilt, the replayed rustc command,
/// the link, the symbols the stub resolved, the diff, the library and per-phase timings.
///
/// It is what `whisker-dev patch --json` prints, what `plan.json` in the patch directory holds and
/// what the server returns for `GET /api/patches/{id}`.
public struct PatchPlan: Codable, Sendable, Equatable {
    /// The patch library: one for every process of the build (`linkMode` `shared`), or the one
    /// linked for one process's slide (`per-device`).
    public struct Library: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int
        public var sha256: String
        /// The `aslr_reference` of the process the plan's jump table is for (and, per device, the
        /// slide the stub was written for).
        public var aslrReference: String
        public var linkPlan: LinkPlan
        /// Functions the jump table routes old → new.
        public var routedFunctions: Int
        /// Which link was used: `shared` or `per-device`.
        public var linkMode: PatchLinkMode = .perDevice
        /// Why a target that supports the shared link got a per-device one (nil otherwise).
        public var sharedLinkFallback: String?

        public init(
            path: String, size: Int, sha256: String, aslrReference: String, linkPlan: LinkPlan, routedFunctions: Int,
            linkMode: PatchLinkMode, sharedLinkFallback: String?
        ) {
            self.path = path
            self.size = size
            self.sha256 = sha256
            self.aslrReference = aslrReference
            self.linkPlan = linkPlan
            self.routedFunctions = routedFunctions
            self.linkMode = linkMode
            self.sharedLinkFallback = sharedLinkFallback
        }

        // Plans written before the shared link lack its fields.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            path = try container.decode(String.self, forKey: .path)
            size = try container.decode(Int.self, forKey: .size)
            sha256 = try container.decode(String.self, forKey: .sha256)
            aslrReference = try container.decode(String.self, forKey: .aslrReference)
            linkPlan = try container.decode(LinkPlan.self, forKey: .linkPlan)
            routedFunctions = try container.decode(Int.self, forKey: .routedFunctions)
            linkMode = try container.decodeIfPresent(PatchLinkMode.self, forKey: .linkMode) ?? .perDevice
            sharedLinkFallback = try container.decodeIfPresent(String.self, forKey: .sharedLinkFallback)
        }
    }

    /// What the stub object resolved for the patch.
    public struct StubSummary: Codable, Sendable, Equatable {
        public var trampolines: Int
        public var absoluteData: Int
        public var boundByLoader: Int
        public var leftUndefined: Int
    }

    /// The patch's ``DiffReport``: functions changed, added, removed, unchanged (counts and
    /// names), and why each jump-table entry is routed.
    public struct Diff: Codable, Sendable, Equatable {
        public var added: [String]
        public var removed: [String]
        /// Changed + unchanged (or the names both sides define when code was not compared).
        public var keptCount: Int
        /// "3 functions changed, 1 added".
        public var summary: String
        public var changed: [String]
        public var unchangedCount: Int
        /// Unchanged functions that call changed code.
        public var callsChangedCode: [String]
        public var codeCompared: Bool
        /// What the old side was (see ``DiffBaseline``).
        public var baseline: String
        public var routed: [RoutedFunction]

        public init(_ report: DiffReport) {
            added = report.added
            removed = report.removed
            keptCount = report.keptCount
            summary = report.summary
            changed = report.changed
            unchangedCount = report.unchangedCount
            callsChangedCode = report.callsChangedCode
            codeCompared = report.codeCompared
            baseline = report.baseline
            routed = report.routed
        }

        // Plans written before per-function change detection lack the newer fields.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            added = try container.decode([String].self, forKey: .added)
            removed = try container.decode([String].self, forKey: .removed)
            keptCount = try container.decode(Int.self, forKey: .keptCount)
            summary = try container.decode(String.self, forKey: .summary)
            changed = try container.decodeIfPresent([String].self, forKey: .changed) ?? []
            unchangedCount = try container.decodeIfPresent(Int.self, forKey: .unchangedCount) ?? 0
            callsChangedCode = try container.decodeIfPresent([String].self, forKey: .callsChangedCode) ?? []
            codeCompared = try container.decodeIfPresent(Bool.self, forKey: .codeCompared) ?? false
            baseline = try container.decodeIfPresent(String.self, forKey: .baseline) ?? ""
            routed = try container.decodeIfPresent([RoutedFunction].self, forKey: .routed) ?? []
        }
    }

    public var patchId: Int
    public var buildId: String
    public var project: String
    public var state: String
    public var cratesRebuilt: [String]
    public var changedFiles: [String]
    public var objectPlan: ObjBuildPlan
    public var objects: [String]
    public var stub: StubSummary
    public var library: Library
    public var diff: Diff
    /// Which of the executable's statics and thread-locals the shared library uses (nil for a
    /// per-device link, whose patch has fresh copies of the edited crates' statics).
    public var statics: StaticsRelocationSummary?
    /// Per incrementally replayed crate: codegen units compiled, changed and linked (nil when each
    /// crate is one object, all linked).
    public var codegenUnits: [CodegenUnitSelection.Summary]?
    public var phases: [PhaseTiming]
    /// Wall time of the compile half plus this link; less than the phases' sum when a library's
    /// rustc ran beside its dependents'.
    public var durationMs: Double
    /// rustc's warnings, if it printed any (the build still succeeded).
    public var diagnostics: String
    public var createdAt: String
    /// Save → applied on each device, filled by the dev server where it stores and serves the plan
    /// (nil from `whisker-dev patch`, which has no watcher and no devices).
    public var latency: PatchLatency? = nil

    /// The plan as pretty-printed JSON with stable key order.
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Phase name → milliseconds, in order, for one-line logs.
    public var phaseSummary: String {
        phases.map { "\($0.name) \(String(format: "%.1f", $0.durationMs)) ms" }.joined(separator: ", ")
    }
}
