import Foundation

/// What a patch's functions are compared against: the code the running process has for the
/// rebuilt crate.
///
/// In order of preference:
/// 1. **previous patch**: the objects of the newest committed patch below this one, of the same
///    fat build, that rebuilt the crate (recorded in the project store's `function-baseline` by
///    ``record(_:buildId:patchId:layout:)``). Same command, same flags: exact.
/// 2. **fat build objects**: the fat build's own codegen-unit objects, which rustc keeps in the
///    incremental session directory of the captured `-C incremental=…` (cargo deletes the
///    linked ones). Several codegen units instead of one, but the same code: measured on the
///    counter example, every function of the fat build's units matches the thin object of the same
///    sources. Used only when the thin rebuild adds no codegen flags of its own (a different code
///    model would change every function) and the session is not newer than the kept binary.
/// 3. **fat binary names**: names only (release profiles have no incremental directory): kept
///    functions are reported as "kept (code not compared)" and routed conservatively.
public struct DiffBaseline: Sendable, Equatable {
    /// Where the old side comes from.
    public enum Source: String, Sendable, Codable {
        case previousPatch = "previous patch"
        case fatBuildObjects = "fat build objects"
        case fatBinaryNames = "fat binary names"
    }

    public var source: Source
    /// The old objects (empty for ``Source/fatBinaryNames``).
    public var objects: [String]
    /// One line for the report: `patch 3 (1 object)`, `fat build b… (16 codegen units)`, ….
    public var description: String
}

/// The project store's `function-baseline` record: the objects recent committed patches of the
/// current fat build compiled, per crate. Several are kept so a patch linked again later (a device that joins
/// after patch N+1 was committed) still finds patch N-1 below it.
struct BaselineRecord: Codable, Equatable, Sendable {
    struct Entry: Codable, Equatable, Sendable {
        var patchId: Int
        /// Crate name → objects.
        var crates: [String: [String]]
    }

    var buildId: BuildID
    /// Ascending patch ids.
    var patches: [Entry]

    static let kept = 32

    /// The newest entry below `patchId` that compiled `crate`.
    func entry(below patchId: Int, crate: String) -> (patchId: Int, objects: [String])? {
        for entry in patches.reversed() where entry.patchId < patchId {
            if let objects = entry.crates[crate], !objects.isEmpty { return (entry.patchId, objects) }
        }
        return nil
    }
}

extension DiffBaseline {
    /// The project store's `function-baseline` record with `patch`'s objects as the baseline of
    /// the next patch of the same build. Written by the patcher's commit, with the other records
    /// (``ProjectStore/Batch``): a failed or cancelled patch must not become the baseline.
    static func recording(_ patch: PatchObjects, buildId: BuildID, patchId: Int, layout: ProjectLayout) throws -> BaselineRecord {
        let store = ProjectStore(layout)
        var record = try store.read(.functionBaseline) ?? BaselineRecord(buildId: buildId, patches: [])
        if record.buildId != buildId { record = BaselineRecord(buildId: buildId, patches: []) }
        record.patches.removeAll { $0.patchId == patchId }
        record.patches.append(.init(patchId: patchId, crates: patch.objectsByCrate))
        record.patches.sort { $0.patchId < $1.patchId }
        record.patches = Array(record.patches.suffix(BaselineRecord.kept))
        return record
    }

    /// The baseline stage: the best baseline for one rebuilt `crate` of patch `patchId` of
    /// `build` — the previous patch's objects of it, else (the tip crate only) the fat build's
    /// codegen units, else names only (see the type).
    public static func make(crate: String, patch: PatchObjects, build: FatBuild, patchId: Int, layout: ProjectLayout) -> DiffBaseline {
        // An unreadable record costs this diff its baseline (it falls back to names), not the patch.
        if let record = try? ProjectStore(layout).read(.functionBaseline),
           record.buildId == build.id,
           let (earlier, objects) = record.entry(below: patchId, crate: crate),
           objects.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            if earlier == 0 {
                // Recorded by the warm-up (``WarmUp``): the fat build's sources compiled like a patch.
                return DiffBaseline(source: .fatBuildObjects, objects: objects, description: compiledBaselineDescription(build: build.id))
            }
            return DiffBaseline(
                source: .previousPatch, objects: objects,
                description: "patch \(earlier) (\(objects.count) object\(objects.count == 1 ? "" : "s"))")
        }
        // Diagnostics flags (`--color=always` under `serve`) don't change code; anything else might.
        if crate == patch.tipCrate, patch.tipExtraArguments.allSatisfy({ $0.hasPrefix("--color") }),
           let invocation = try? build.tipInvocation(),
           let objects = fatBuildObjects(of: invocation, binary: build.binary, newObjects: patch.objects(of: crate)) {
            return DiffBaseline(
                source: .fatBuildObjects, objects: objects,
                description: "fat build \(build.id.rawValue) (\(objects.count) codegen unit\(objects.count == 1 ? "" : "s"))")
        }
        return DiffBaseline(
            source: .fatBinaryNames, objects: [], description: "fat binary \(build.binary) (names only)")
    }

    /// The codegen-unit objects of the fat build's incremental session for `invocation`'s crate.
    static func fatBuildObjects(of invocation: CapturedRustcInvocation, binary: String, newObjects: [String]) -> [String]? {
        let arguments = RustcCommandLine(invocation.arguments).arguments
        guard let value = arguments.first(where: { $0.codegenKey == "incremental" })?.codegenValue, !value.isEmpty,
              let binaryDate = modificationDate(binary)
        else { return nil }
        return fatBuildObjects(
            incrementalDirectory: URL(fileURLWithPath: CapturedRustcInvocation.absolute(value, in: invocation.workingDirectory)),
            crateName: invocation.crateName, notNewerThan: binaryDate, newObjects: newObjects)
    }

    /// The `.o` files of the newest finalized session of `crateName` under `incrementalDirectory`
    /// (rustc's `<crate>-<id>/s-<time>-<id>-<hash>/`) not newer than `date`. With several
    /// candidate crate directories (a package's lib and bin share a crate name), the one sharing
    /// most function names with `newObjects` wins.
    static func fatBuildObjects(incrementalDirectory root: URL, crateName: String, notNewerThan date: Date, newObjects: [String]) -> [String]? {
        let files = FileManager.default
        guard let crateDirectories = try? files.contentsOfDirectory(atPath: root.path).filter({ $0.hasPrefix(crateName + "-") })
        else { return nil }
        var candidates: [[String]] = []
        for directory in crateDirectories {
            let crateURL = root.appendingPathComponent(directory)
            let sessions = ((try? files.contentsOfDirectory(atPath: crateURL.path)) ?? [])
                .filter { $0.hasPrefix("s-") && !$0.hasSuffix(".lock") && !$0.hasSuffix("-working") }
                .map { crateURL.appendingPathComponent($0) }
                .compactMap { url in modificationDate(url.path).map { (url, $0) } }
                .filter { $0.1 <= date.addingTimeInterval(1) }
            guard let newest = sessions.max(by: { $0.1 < $1.1 })?.0 else { continue }
            let objects = ((try? files.contentsOfDirectory(atPath: newest.path)) ?? []).filter { $0.hasSuffix(".o") }.sorted()
            if !objects.isEmpty { candidates.append(objects.map { newest.appendingPathComponent($0).path }) }
        }
        guard candidates.count > 1 else { return candidates.first }
        guard let newNames = try? Set(ObjectFunctions(objects: newObjects).functions.keys) else { return nil }
        return candidates.max { lhs, rhs in overlap(lhs, newNames) < overlap(rhs, newNames) }
    }

    private static func overlap(_ objects: [String], _ names: Set<String>) -> Int {
        guard let functions = try? ObjectFunctions(objects: objects) else { return -1 }
        return functions.functions.keys.filter(names.contains).count
    }

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
