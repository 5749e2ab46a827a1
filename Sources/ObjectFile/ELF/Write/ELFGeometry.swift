/// Where the tables of one ELF file lie and how a value is spelled in its class and byte order:
/// the arithmetic ``ELFFileEditor`` (edits in memory) and ``ELFFile/retainSections(_:inObjectAt:)``
/// (edits in the file) share.
struct ELFGeometry: Sendable {
    let layout: ELF.Layout
    let bigEndian: Bool
    /// `e_shoff`.
    let sectionHeaderTableOffset: UInt64
    /// `e_shentsize` (at least ``ELF/Layout/sectionHeaderSize``, which ``ELFFile`` checked).
    let sectionHeaderEntrySize: UInt64
    let sectionCount: Int

    init(_ elf: ELFFile) {
        layout = elf.layout
        bigEndian = elf.isBigEndian
        sectionHeaderTableOffset = elf.sectionHeaderTableOffset
        sectionHeaderEntrySize = UInt64(elf.sectionHeaderEntrySize)
        sectionCount = elf.sections.count
    }

    /// The file offset of section header `index`, or nil for an index with no header. Can't
    /// overflow: ``ELFFile`` found the whole table inside the file.
    func sectionHeaderOffset(_ index: Int) -> UInt64? {
        guard index >= 0, index < sectionCount else { return nil }
        return sectionHeaderTableOffset + UInt64(index) * sectionHeaderEntrySize
    }

    /// `value` in the file's byte order.
    func encode<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        ByteWriter.encode(value, bigEndian: bigEndian)
    }

    /// A word field (`Elf*_Addr`, `Elf*_Off`, ELF64 `sh_flags`): 8 bytes, or 4 in ELF32, where a
    /// value past 32 bits doesn't fit (nil).
    func encodeWord(_ value: UInt64) -> [UInt8]? {
        if layout.is64 { return encode(value) }
        return UInt32(exactly: value).map { encode($0) }
    }
}
