/// One symbol table entry (`Elf64_Sym` / `Elf32_Sym`) in its raw fields, as it is written: what
/// ``ELFRelocatableWriter`` and ``ELFFileEditor`` append. (``ELFFile`` reads entries into the
/// format-neutral ``ObjectSymbol`` instead.)
public struct ELFSymbolEntry: Sendable, Hashable {
    /// `st_name`: offset of the name in the table's string table (0: no name).
    public var nameOffset: UInt32
    /// `st_info`: binding and type (see ``ELF/symbolInfo(binding:type:)``).
    public var info: UInt8
    /// `st_other`: the visibility (``ELF/SymbolVisibility``) in its low bits.
    public var other: UInt8
    /// `st_shndx`: the defining section, or one of ``ELF/SectionIndex``.
    public var sectionIndex: UInt16
    /// `st_value`.
    public var value: UInt64
    /// `st_size`.
    public var size: UInt64

    public init(
        nameOffset: UInt32, binding: UInt8, type: UInt8, visibility: UInt8 = ELF.SymbolVisibility.default,
        sectionIndex: UInt16, value: UInt64 = 0, size: UInt64 = 0
    ) {
        self.nameOffset = nameOffset
        info = ELF.symbolInfo(binding: binding, type: type)
        other = visibility
        self.sectionIndex = sectionIndex
        self.value = value
        self.size = size
    }

    /// Whether the entry can be written in `layout`: ELF32 has 32-bit values and sizes.
    func fits(_ layout: ELF.Layout) -> Bool {
        layout.is64 || (value <= UInt64(UInt32.max) && size <= UInt64(UInt32.max))
    }

    /// Appends the entry in `layout` (which it must ``fits(_:)``) and the writer's byte order.
    func append(to out: inout ByteWriter, layout: ELF.Layout) {
        out.append(nameOffset)
        if layout.is64 {
            out.append(info)
            out.append(other)
            out.append(sectionIndex)
            out.append(value)
            out.append(size)
        } else {
            out.append(UInt32(truncatingIfNeeded: value))
            out.append(UInt32(truncatingIfNeeded: size))
            out.append(info)
            out.append(other)
            out.append(sectionIndex)
        }
    }
}
