/// Why ``ELFRelocatableWriter`` could not write an object: something its input asks for that the
/// format can't carry.
public enum ELFWriteError: Error, Sendable, Hashable {
    /// A symbol or section name that is empty or contains a NUL byte (a string table can't hold it).
    case invalidName(String)
    /// A relocation against a name that is not one of the writer's globals.
    case unknownRelocationSymbol(String)
    /// A section alignment that is not a power of two up to ``ELFRelocatableWriter/maximumAlignment``.
    case invalidAlignment(section: String, alignment: UInt64)
    /// The named part ("object file", "string table") exceeds the 4 GiB its 32-bit offsets address.
    case tooLarge(String)
}
