extension MachOFile {
    /// Number of `nlist_64` entries `LC_SYMTAB` declares (0 without one), bounded by the bytes
    /// after the table's offset: callers reserve capacity with it, and a damaged count (billions)
    /// must not size an allocation before ``forEachSymbol(_:)`` reports the table as truncated.
    public var symbolCount: Int {
        guard let symtab else { return 0 }
        let offset = UInt64(symtab.symbolOffset)
        let available = offset < UInt64(view.count) ? UInt64(view.count) - offset : 0
        return Int(min(UInt64(symtab.symbolCount), available / UInt64(MachO.nlist64Size)))
    }

    /// Calls `body` for every `nlist_64` entry, debugging (`N_STAB`) entries included but flagged
    /// ``ObjectSymbolFlags/debug``. Mach-O records no sizes, so a defined symbol's size is the
    /// distance to the next symbol in its section, or to the section's end (flagged
    /// ``ObjectSymbolFlags/derivedSize``). `RawSymbol.name` is valid only during the call.
    public func forEachSymbol(_ body: (RawSymbol) throws -> Void) throws {
        guard let symtab else { return }
        let view = self.view
        let start = try view.table(
            UInt64(symtab.symbolOffset), count: UInt64(symtab.symbolCount), entrySize: UInt64(MachO.nlist64Size),
            "symbol table")
        let strings = try StringTable(
            view: view, offset: UInt64(symtab.stringOffset), size: UInt64(symtab.stringSize), what: "string table")
        let sizes = SizeOracle(view: view, start: start, count: Int(symtab.symbolCount), sections: sections)
        try withExtendedLifetime(file) {
            for index in 0..<Int(symtab.symbolCount) {
                let s = start + index * MachO.nlist64Size
                let nameOffset = view.u32(at: s)
                let type = view.u8(at: s + 4)
                let sect = Int(view.u8(at: s + 5))
                let desc = view.u16(at: s + 6)
                let value = view.u64(at: s + 8)
                guard let name = strings.bytes(at: nameOffset) else {
                    throw strings.invalidName(nameOffset, for: "symbol \(index)", entryOffset: s)
                }
                var symbol = RawSymbol(
                    index: index, name: name, value: value, size: 0, kind: .notype,
                    binding: type & MachO.nExt != 0 ? .global : .local, sectionIndex: nil, flags: [])
                if type & MachO.nStab != 0 {
                    symbol.kind = .other
                    symbol.binding = .local
                    symbol.flags = .debug
                    try body(symbol)
                    continue
                }
                if type & MachO.nPext != 0 { symbol.flags.insert(.privateExtern) }
                switch type & MachO.nTypeMask {
                case MachO.nSect:
                    if sect >= 1, sect <= sections.count {
                        let section = sections[sect - 1]
                        symbol.sectionIndex = sect - 1
                        symbol.kind = section.isThreadLocal ? .tls : section.hasInstructions ? .function : .object
                        symbol.size = sizes.size(of: value, inSection: sect)
                        symbol.flags.insert(.derivedSize)
                    }
                    if desc & MachO.nWeakDef != 0 {
                        symbol.flags.insert(.weakDefinition)
                        if symbol.binding == .global { symbol.binding = .weak }
                    }
                case MachO.nAbs:
                    symbol.flags.insert(.absolute)
                case MachO.nIndr:
                    symbol.kind = .other
                    symbol.flags.insert(.indirect)
                case MachO.nUndf where symbol.binding == .global && value != 0:
                    // An undefined external with a value is a common block of that size.
                    symbol.kind = .common
                    symbol.size = value
                    symbol.flags.insert(.common)
                default:  // N_UNDF, N_PBUD, unknown types: a reference to something defined elsewhere
                    symbol.flags.insert(.undefined)
                    if desc & MachO.nWeakRef != 0 {
                        symbol.flags.insert(.weakReference)
                        if symbol.binding == .global { symbol.binding = .weak }
                    }
                }
                try body(symbol)
            }
        }
    }

    /// The symbols with `String` names (debugging entries included, flagged).
    public func symbols() throws -> [ObjectSymbol] {
        var result: [ObjectSymbol] = []
        result.reserveCapacity(symbolCount)
        try forEachSymbol { result.append(ObjectSymbol($0)) }
        return result
    }
}

/// Derives Mach-O symbol sizes: the sorted start addresses of every section-defined symbol.
private struct SizeOracle {
    /// (section number, address), sorted.
    private var starts: [(section: Int, address: UInt64)] = []
    private let sectionEnds: [UInt64]

    init(view: ByteView, start: Int, count: Int, sections: [MachOFile.Section]) {
        sectionEnds = sections.map { $0.address &+ $0.size }
        starts.reserveCapacity(count)
        for index in 0..<count {
            let s = start + index * MachO.nlist64Size
            let type = view.u8(at: s + 4)
            let sect = Int(view.u8(at: s + 5))
            guard type & MachO.nStab == 0, type & MachO.nTypeMask == MachO.nSect, sect >= 1, sect <= sections.count else {
                continue
            }
            starts.append((sect, view.u64(at: s + 8)))
        }
        starts.sort { $0.section != $1.section ? $0.section < $1.section : $0.address < $1.address }
    }

    /// Distance from `address` to the next greater start in the same section, else to the section end.
    func size(of address: UInt64, inSection section: Int) -> UInt64 {
        // First entry strictly after (section, address).
        var low = 0
        var high = starts.count
        while low < high {
            let mid = (low + high) / 2
            let entry = starts[mid]
            if entry.section < section || (entry.section == section && entry.address <= address) {
                low = mid + 1
            } else {
                high = mid
            }
        }
        if low < starts.count, starts[low].section == section {
            return starts[low].address - address
        }
        let end = sectionEnds[section - 1]
        return end > address ? end - address : 0
    }
}
