/// Which old function runs which new code, for one patch and one process.
///
/// Entries are kept device-independent (the old side as file addresses of the fat binary, the new
/// side as `st_value`s in the patch library, which lld links at 0); the process enters only through
/// ``slide``. That makes one table serve every device of a build: ``resliding(aslrReference:)``
/// derives another device's table arithmetically. The JSON shapes are in `docs/architecture.md`.
public struct JumpTable: Sendable, Hashable, Codable {
    /// One routed function.
    public struct Entry: Sendable, Hashable, Codable {
        /// The old function's file (unslid) address in the fat binary.
        public var oldFileAddress: UInt64
        /// The new function's address relative to the patch library's load base (its `st_value`).
        public var newAddress: UInt64

        public init(oldFileAddress: UInt64, newAddress: UInt64) {
            self.oldFileAddress = oldFileAddress
            self.newAddress = newAddress
        }
    }

    /// One changed old function whose first bytes the runtime overwrites with a jump to its new
    /// code (`--entry-patching`), so callers that never go through the jump table run it too.
    public struct EntryPatch: Sendable, Hashable, Codable {
        /// The old function's file (unslid) address in the fat binary.
        public var oldFileAddress: UInt64
        /// The new function's address relative to the patch library's load base, like
        /// ``Entry/newAddress``.
        public var newAddress: UInt64
        /// The old function's size in bytes (`st_size`): the runtime skips functions shorter than
        /// its jump.
        public var oldSize: UInt64

        public init(oldFileAddress: UInt64, newAddress: UInt64, oldSize: UInt64) {
            self.oldFileAddress = oldFileAddress
            self.newAddress = newAddress
            self.oldSize = oldSize
        }
    }

    public var patchId: Int
    public var buildId: String
    /// Absolute path of the patch library the device loads.
    public var libraryPath: String
    /// The process the table is for: its anchor's runtime address and the anchor's file address.
    public var slide: ASLRSlide
    /// The patch library's `main` (its `st_value`), or 0 when it has none: subsecond's
    /// `new_base_address`.
    public var newBaseAddress: UInt64
    /// Sorted by old address, one entry per old address.
    public var entries: [Entry]
    /// Functions whose machine code changed, to be entry-patched; empty unless entry patching is
    /// on. Sorted by old address.
    public var entryPatches: [EntryPatch]

    public init(
        patchId: Int, buildId: String, libraryPath: String, slide: ASLRSlide, newBaseAddress: UInt64 = 0,
        entries: [Entry], entryPatches: [EntryPatch] = []
    ) {
        self.patchId = patchId
        self.buildId = buildId
        self.libraryPath = libraryPath
        self.slide = slide
        self.newBaseAddress = newBaseAddress
        self.entries = entries
        self.entryPatches = entryPatches
    }

    /// The anchor's runtime address in the process the table is for.
    public var aslrReference: UInt64 { slide.aslrReference }

    /// `(old runtime address, new address relative to the library's load base)` per entry: what
    /// the `map` of our JSON carries.
    public var runtimeMap: [(old: UInt64, new: UInt64)] {
        entries.map { (slide.runtimeAddress(ofFileAddress: $0.oldFileAddress), $0.newAddress) }
    }

    /// `(old runtime address, new address relative to the library's load base, old size)` per
    /// entry patch: what `entryPatches` in our JSON carries.
    public var runtimeEntryPatches: [(old: UInt64, new: UInt64, size: UInt64)] {
        entryPatches.map { (slide.runtimeAddress(ofFileAddress: $0.oldFileAddress), $0.newAddress, $0.oldSize) }
    }

    /// The same patch for another process of the same build, whose anchor runs at `aslrReference`.
    public func resliding(aslrReference: UInt64) -> JumpTable {
        var copy = self
        copy.slide.aslrReference = aslrReference
        return copy
    }
}
