import ObjectFile

extension SymbolTable {
    /// The symbols of all of a patch's objects as one table (``merging(_:)``): a name one object
    /// references and another defines is not needed from the executable. Phase `objectSymbols`.
    /// - Throws: ``LinkPlanError/noObjects`` for no objects (nothing to link either).
    public static func make(mergingObjectsAt objects: [String]) throws -> SymbolTable {
        guard let merged = try merging(objects.map { try make(contentsOf: $0) }) else { throw LinkPlanError.noObjects }
        return merged
    }

    /// The symbols of several relocatable objects linked together, as one table: every definition
    /// of every table, and the undefined references no table defines, once each. A patch built
    /// from several crates' objects needs from the executable only what none of its own objects
    /// defines (a library function the binary crate calls is in the patch, not looked up).
    ///
    /// Sections are concatenated in table order; each entry's section index is shifted to match.
    /// Architecture, format, file type and TLS come from the first table.
    /// Returns nil for no tables.
    /// - Throws: ``SymbolTableError`` when the names exceed what one table can address.
    public static func merging(_ tables: [SymbolTable]) throws(SymbolTableError) -> SymbolTable? {
        guard let first = tables.first else { return nil }
        if tables.count == 1 { return first }
        var definedNames: Set<String> = []
        for table in tables {
            for index in table.indices where table.isDefined(at: index) { definedNames.insert(table.name(at: index)) }
        }
        let builder = SymbolTableBuilder(capacity: tables.reduce(0) { $0 + $1.count }, nameBytes: 0)
        var sections: [ObjectSection] = []
        var undefinedSeen: Set<String> = []
        for table in tables {
            let sectionOffset = sections.count
            for index in table.indices {
                let name = table.name(at: index)
                if !table.isDefined(at: index), !name.isEmpty {
                    guard !definedNames.contains(name), undefinedSeen.insert(name).inserted else { continue }
                }
                let bytes = Array(name.utf8)
                let failure = bytes.withUnsafeBytes { buffer -> SymbolTableError? in
                    do throws(SymbolTableError) {
                        try builder.append(
                            name: buffer, address: table.address(at: index), size: table.size(at: index),
                            kind: table.kind(at: index), binding: table.binding(at: index),
                            sectionIndex: table.sectionIndex(at: index).map { $0 + sectionOffset }, flags: table.flags(at: index))
                        return nil
                    } catch {
                        return error
                    }
                }
                if let failure { throw failure }
            }
            sections += table.sections
        }
        return SymbolTable(
            storage: builder.finish(), architecture: first.architecture, format: first.format, fileType: first.fileType,
            sections: sections, tls: first.tls, fromDynamicSymbols: false)
    }
}
