import Foundation
import Logging

/// The patch objects made slide-independent: what the shared link uses instead of the thin
/// rebuild's objects and a stub.
public struct RelocatedObjects: Codable, Sendable, Equatable {
    /// The rewritten objects, in link order, then the fixup object (slots and trampolines).
    public var objects: [String]
    public var summary: StaticsRelocationSummary
    public var trampolines: Int
    public var slots: Int
}

extension Patcher {
    /// Rewrites each of `objects` (compiled with ``StaticsRelocation/largeCodeModel``) into
    /// `directory` so one library links for every process of the build and uses the executable's
    /// statics (see ``SlideIndependentObject``). Names defined by any of the objects stay the
    /// patch's own: a workspace crate rebuilt beside the edited one replaces the executable's copy.
    public static func makeSlideIndependent(
        objects: [String], executable: SymbolTable, directory: URL
    ) throws(RelocateError) -> RelocatedObjects {
        guard let anchor = executable.definitions(named: FixupObject.anchorSymbol).first(where: { $0.kind == .function })
        else {
            throw .unsupportedObject(path: "the fat binary", found: "an executable without a `main` function to anchor on")
        }
        var fixups = FixupTable()
        var summary = StaticsRelocationSummary()
        var rewritten: [String] = []
        var definedInPatch = Set<String>()
        for object in objects {
            guard let symbols = try? SymbolTable(contentsOf: object) else {
                throw .unsupportedObject(path: object, found: "unreadable by the symbol reader")
            }
            for entry in symbols.defined where entry.binding != .local { definedInPatch.insert(entry.name) }
        }
        for (index, object) in objects.enumerated() {
            let bytes = try SlideIndependentObject.rewrite(
                objectAt: object, executable: executable, anchorAddress: anchor.address,
                definedInPatch: definedInPatch, fixups: &fixups, summary: &summary)
            let path = directory.appendingPathComponent("shared-\(index)-\(URL(fileURLWithPath: object).lastPathComponent)").path
            try write(bytes, to: path)
            rewritten.append(path)
        }
        let fixupPath = directory.appendingPathComponent("shared-fixups.o").path
        try write(try FixupObject(table: fixups).bytes(), to: fixupPath)
        return RelocatedObjects(
            objects: rewritten + [fixupPath], summary: summary.normalized(),
            trampolines: fixups.trampolines.count, slots: fixups.slots.count)
    }

    private static func write(_ bytes: [UInt8], to path: String) throws(RelocateError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .writeFailed(path: path, reason: error.localizedDescription)
        }
    }
}
