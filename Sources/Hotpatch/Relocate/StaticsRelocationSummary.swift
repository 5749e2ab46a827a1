/// What the relocate stage did to a patch object: which of the executable's statics and
/// thread-locals the patch now uses, and which statics stay the patch's own and why.
///
/// Names are the mangled symbol names, sorted, each once. It is the `statics` field of the
/// PatchPlan.
public struct StaticsRelocationSummary: Codable, Sendable, Equatable {
    /// Statics of the executable the patch reads and writes instead of fresh copies.
    public var statics: [String] = []
    /// Thread-locals of the executable the patch reaches at their thread-pointer offsets.
    public var threadLocals: [String] = []
    /// Relocations rewritten to reach the executable's storage.
    public var references: Int = 0
    /// Writable statics the executable doesn't have: added by the edit, they live in the patch
    /// (and start from their initial value).
    public var newStatics: [String] = []
    /// Statics an earlier patch of the build added: the patch uses that patch's storage (its
    /// library is a needed library of this one).
    public var earlierPatchStatics: [String] = []
    /// Statics whose size or kind differs from the executable's (the edit changed their type):
    /// the patch keeps its own copy rather than misread the old layout.
    public var changed: [String] = []
    /// References to the executable's code and data (other crates, std) bound relative to `main`.
    public var executableReferences: Int = 0
    /// `.eh_frame` personality and LSDA pointers re-encoded from absolute to pc-relative.
    public var unwindPointers: Int = 0

    public init() {}

    // Every field is optional on disk: journals and plans written by earlier versions lack some.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func names(_ key: CodingKeys) throws -> [String] { try container.decodeIfPresent([String].self, forKey: key) ?? [] }
        func count(_ key: CodingKeys) throws -> Int { try container.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        statics = try names(.statics)
        threadLocals = try names(.threadLocals)
        references = try count(.references)
        newStatics = try names(.newStatics)
        earlierPatchStatics = try names(.earlierPatchStatics)
        changed = try names(.changed)
        executableReferences = try count(.executableReferences)
        unwindPointers = try count(.unwindPointers)
    }

    /// One line for logs and the CLI: "3 statics and 1 thread-local of the executable (12 references), 1 new static".
    public var description: String {
        var parts = ["\(statics.count) static\(statics.count == 1 ? "" : "s") and \(threadLocals.count) thread-local\(threadLocals.count == 1 ? "" : "s") of the executable (\(references) reference\(references == 1 ? "" : "s"))"]
        if !earlierPatchStatics.isEmpty { parts.append("\(earlierPatchStatics.count) added by an earlier patch") }
        if !newStatics.isEmpty { parts.append("\(newStatics.count) new static\(newStatics.count == 1 ? "" : "s") in the patch") }
        if !changed.isEmpty { parts.append("\(changed.count) changed type (kept fresh)") }
        return parts.joined(separator: ", ")
    }
}
