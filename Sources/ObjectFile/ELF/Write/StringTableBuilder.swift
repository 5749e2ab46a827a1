/// An ELF string table being written: NUL-terminated names after a leading NUL (the empty name),
/// addressed by byte offset.
struct StringTableBuilder {
    private(set) var bytes: [UInt8] = [0]

    /// Appends `name` and returns its offset.
    mutating func add(_ name: String) throws(ELFWriteError) -> UInt32 {
        let utf8 = Array(name.utf8)
        guard !utf8.isEmpty, !utf8.contains(0) else { throw .invalidName(name) }
        guard bytes.count + utf8.count + 1 <= Int(UInt32.max) else { throw .tooLarge("string table") }
        let offset = UInt32(bytes.count)
        bytes.append(contentsOf: utf8)
        bytes.append(0)
        return offset
    }
}
