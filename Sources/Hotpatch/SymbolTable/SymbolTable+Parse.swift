import ObjectFile

extension SymbolTable {
    /// Parses the symbols of `path` (ELF `.symtab`, else `.dynsym`; Mach-O `LC_SYMTAB`).
    ///
    /// - Parameter architecture: slice of a universal Mach-O (`arm64`, `x86_64`); `nil` = host, else first.
    /// - Throws: `ObjectFileError` naming the file, offset and expectation for unreadable input.
    public static func make(contentsOf path: String, architecture: String? = nil) throws -> SymbolTable {
        try make(parsing: ObjectFile(path: path, architecture: architecture))
    }

    /// Builds the table of an opened object file. Mach-O debugging (`N_STAB`) entries are skipped.
    public static func make(parsing object: ObjectFile) throws -> SymbolTable {
        let builder = SymbolTableBuilder(capacity: object.symbolCountEstimate, nameBytes: nameBytesEstimate(object))
        try object.forEachSymbol { symbol in
            if symbol.flags.contains(.debug) { return }
            try builder.append(
                name: symbol.name, address: symbol.value, size: symbol.size, kind: SymbolKind(symbol.kind),
                binding: SymbolBinding(symbol.binding), sectionIndex: symbol.sectionIndex, flags: symbol.flags)
        }
        return SymbolTable(
            storage: builder.finish(), architecture: object.architecture, format: object.format,
            fileType: object.fileType, sections: object.sections, tls: object.tlsSegment,
            fromDynamicSymbols: object.usesDynamicSymbols)
    }

    /// Size of the string table the names come from (an upper bound unless strings are shared).
    private static func nameBytesEstimate(_ object: ObjectFile) -> Int {
        switch object.image {
        case .elf(let elf):
            guard let table = elf.symbolTableSection, Int(table.link) < elf.sections.count else { return 0 }
            return Int(clamping: Swift.min(elf.sections[Int(table.link)].size, UInt64(object.file.count)))
        case .machO(let macho):
            return Int(macho.symtab?.stringSize ?? 0)
        }
    }
}
