import FuzzDriver
import Hotpatch
import ObjectFile

/// Reads everything of an opened image that a pipeline stage reads: every section's bytes, every
/// symbol (checking that its name lies inside the file), the format-neutral sections, and the
/// symbol table the pipeline builds from it.
public func walk(_ object: ObjectFile) {
    let file = object.file
    _ = object.architecture
    _ = object.fileType
    _ = object.tlsSegment
    _ = object.symbolCountEstimate
    _ = object.usesDynamicSymbols
    file.withUnsafeBytes { mapping in
        let start = UInt(bitPattern: mapping.baseAddress)
        let end = start + UInt(mapping.count)
        try? object.forEachSymbol { symbol in
            if let name = symbol.name.baseAddress, symbol.name.count > 0 {
                let first = UInt(bitPattern: name)
                fuzzCheck(first >= start && first + UInt(symbol.name.count) <= end,
                          "symbol \(symbol.index)'s name lies outside the file")
            }
            if let section = symbol.sectionIndex {
                fuzzCheck(section >= 0, "symbol \(symbol.index) has a negative section index")
            }
        }
    }
    _ = try? object.symbols
    _ = try? SymbolTable.make(parsing: object)
}

/// Every section's bytes and every symbol of an ELF image, its relocations and type layouts.
public func walk(_ elf: ELFFile) {
    for section in elf.sections { _ = try? elf.contents(of: section) }
    for table in elf.relocationSections {
        _ = try? elf.relocations(in: table)
        _ = elf.relocationSections(forSection: table.targetSectionIndex)
    }
    for kind in [ELFFile.SymbolTableKind.symtab, .dynsym] {
        guard let table = elf.symbolTableSection(kind) else { continue }
        let count = elf.symbolCount(in: table)
        for index in [0, 1, count / 2, count - 1, count] where index >= 0 {
            _ = try? elf.symbol(at: index, in: table)
        }
    }
    _ = try? DWARFTypeLayouts.read(elf)
}

/// Every section's bytes and every symbol of a Mach-O image.
public func walk(_ macho: MachOFile) {
    _ = macho.architecture
    _ = macho.fileType
    for section in macho.sections { _ = try? macho.contents(of: section) }
    _ = try? macho.symbols()
}
