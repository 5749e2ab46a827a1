import Foundation
import ObjectFile

/// The patch objects made slide-independent: what the shared link uses instead of the thin
/// rebuild's objects and a stub.
public struct RelocatedObjects: Codable, Sendable, Equatable {
    /// The rewritten objects, in link order, then the fixup object (slots and trampolines).
    public var objects: [String]
    public var summary: StaticsRelocationSummary
    public var trampolines: Int
    public var slots: Int
    /// Libraries of earlier patches whose statics this one uses: linked as needed libraries
    /// (already loaded in every process that applied them, found by soname).
    public var neededLibraries: [String] = []
    /// Statics this patch adds and exports for later patches (mangled names).
    public var exportedStatics: [String] = []

    init(objects: [String], summary: StaticsRelocationSummary, trampolines: Int, slots: Int,
         neededLibraries: [String], exportedStatics: [String]) {
        self.objects = objects
        self.summary = summary
        self.trampolines = trampolines
        self.slots = slots
        self.neededLibraries = neededLibraries
        self.exportedStatics = exportedStatics
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        objects = try container.decode([String].self, forKey: .objects)
        summary = try container.decode(StaticsRelocationSummary.self, forKey: .summary)
        trampolines = try container.decode(Int.self, forKey: .trampolines)
        slots = try container.decode(Int.self, forKey: .slots)
        neededLibraries = try container.decodeIfPresent([String].self, forKey: .neededLibraries) ?? []
        exportedStatics = try container.decodeIfPresent([String].self, forKey: .exportedStatics) ?? []
    }
}

/// The project store's `patch-statics` record: for the current fat build, which patch library
/// exports each static a patch added, so later patches keep using that storage (`{"buildId",
/// "libraries": {"<mangled static>": "<library path>"}}`). Written when a shared patch is committed.
struct PatchStaticsRecord: Codable, Sendable {
    var buildId: String
    var libraries: [String: String]

    /// Static → exporting library, for `buildId` (empty for another build), libraries that still
    /// exist. An unreadable record is an error: the next patch would give those statics fresh storage.
    static func load(_ layout: ProjectLayout, buildId: String) throws -> [String: String] {
        guard let record = try ProjectStore(layout).read(.patchStatics), record.buildId == buildId else { return [:] }
        return record.libraries.filter { FileManager.default.fileExists(atPath: $0.value) }
    }

    /// The record with `statics` of `library` added (those already exported keep their library),
    /// for the patcher's commit to write.
    static func adding(_ statics: [String], library: String, layout: ProjectLayout, buildId: String) throws -> PatchStaticsRecord {
        var libraries = try load(layout, buildId: buildId)
        for name in statics where libraries[name] == nil { libraries[name] = library }
        return PatchStaticsRecord(buildId: buildId, libraries: libraries)
    }
}

extension RelocatedObjects {
    /// The relocate stage: rewrites each of `objects` (compiled with ``StaticsRelocation/largeCodeModel``) into
    /// `directory` so one library links for every process of the build and uses the executable's
    /// statics (see ``SlideIndependentObject``). Names defined by any of the objects stay the
    /// patch's own: a workspace crate rebuilt beside the edited one replaces the executable's copy.
    ///
    /// `earlierStatics`: statics earlier patches of the build added, and the library exporting
    /// each (``PatchStaticsRecord``); references to them bind to that storage.
    public static func make(
        objects: [String], executable: SymbolTable, directory: URL, earlierStatics: [String: String] = [:]
    ) throws(RelocateError) -> RelocatedObjects {
        guard let anchor = executable.definitions(named: FixupObject.anchorSymbol).first(where: { $0.kind == .function })
        else {
            throw .unsupportedObject(path: "the fat binary", found: "an executable without a `main` function to anchor on")
        }
        var fixups = FixupTable()
        var summary = StaticsRelocationSummary()
        var rewritten: [String] = []
        var images: [RelocatableImage] = []
        for object in objects { images.append(try SlideIndependentObject.read(objectAt: object)) }
        // One instruction set per link: the fixup object is written for it.
        let machine = images.first?.machine ?? ELF.Machine.x86_64
        if let other = images.first(where: { $0.machine != machine }) {
            throw .unsupportedObject(path: other.path, found: "an object for ELF machine \(other.machine) beside objects for \(machine)")
        }
        var definedInPatch = Set<String>()
        for case let symbol? in images.flatMap(\.symbols) where symbol.isDefined && symbol.binding != .local && !symbol.name.isEmpty {
            definedInPatch.insert(symbol.name)
        }
        var exported: [String] = []
        for (index, (object, image)) in zip(objects, images).enumerated() {
            let (bytes, exports) = try SlideIndependentObject.rewrite(
                image, executable: executable, anchorAddress: anchor.address,
                definedInPatch: definedInPatch, earlierStatics: .init(names: Set(earlierStatics.keys)),
                fixups: &fixups, summary: &summary)
            exported += exports
            let path = directory.appendingPathComponent("shared-\(index)-\(URL(fileURLWithPath: object).lastPathComponent)").path
            try write(bytes, to: path)
            rewritten.append(path)
        }
        let fixupPath = directory.appendingPathComponent("shared-fixups.o").path
        try write(try FixupObject(table: fixups, machine: machine).bytes(), to: fixupPath)
        let normalized = summary.normalized()
        return RelocatedObjects(
            objects: rewritten + [fixupPath], summary: normalized,
            trampolines: fixups.trampolines.count, slots: fixups.slots.count,
            neededLibraries: Set(normalized.earlierPatchStatics.compactMap { earlierStatics[$0] }).sorted(),
            exportedStatics: Array(Set(exported)).sorted())
    }

    /// Writes straight from the array (no `Data` copy). The name is new for each patch
    /// directory's link, and a half-written file is never linked: the link reads it after this returns.
    private static func write(_ bytes: [UInt8], to path: String) throws(RelocateError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let failure = bytes.withUnsafeBytes { writeAll(fd, $0) }
        if let failure { throw .writeFailed(path: path, reason: String(cString: strerror(failure))) }
    }
}
