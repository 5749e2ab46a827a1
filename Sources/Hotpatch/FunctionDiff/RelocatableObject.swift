import ObjectFile

/// One relocatable ELF object opened for function comparison: its symbols by index, the
/// relocations of every allocated section sorted by offset, and section bytes on demand.
///
/// A reference type only to memoise section contents and content digests while one object is
/// analysed; it never leaves the FunctionDiff stage.
final class RelocatableObject {
    let path: String
    let elf: ELFFile
    let architecture: RelocationArchitecture
    /// `symbols[i]` is symbol `i` of `.symtab` (index 0: the null symbol, `nil`).
    let symbols: [ObjectSymbol?]
    /// Relocations that patch section `index`, sorted by offset.
    let relocations: [Int: [ELFRelocation]]
    /// Symbols with a stable name per section, sorted by value: what a section-relative reference
    /// is described by.
    let namedSymbols: [Int: [ObjectSymbol]]
    /// Sized symbols without a stable name (`.Lanon.<hash>.<n>` constants) per section, sorted by
    /// value: a reference into one is described by that symbol's bytes, not its whole section.
    let anonymousSymbols: [Int: [ObjectSymbol]]

    private var contents: [Int: [UInt8]] = [:]
    /// Content digests of anonymous constants (see `contentSummary(of:depth:)`).
    var summaries: [ContentRange: ContentSummary] = [:]
    /// Constants whose digest is being computed: a reference back to one of them is a cycle.
    var inProgress: Set<ContentRange> = []

    convenience init(path: String) throws(FunctionDiffError) {
        let mapped: MappedFile
        do {
            mapped = try MappedFile(path: path)
        } catch {
            throw .unreadableObject(path: path, reason: error.description)
        }
        try self.init(file: mapped)
    }

    init(file mapped: MappedFile) throws(FunctionDiffError) {
        let path = mapped.path
        self.path = path
        let file: ObjectFile
        do {
            file = try ObjectFile(file: mapped)
        } catch {
            throw .unreadableObject(path: path, reason: error.description)
        }
        guard let elf = file.elf else { throw .notRelocatableELF(path: path, found: "a Mach-O file") }
        guard elf.fileType == .relocatable else {
            throw .notRelocatableELF(path: path, found: "an ELF \(elf.fileType.rawValue) file")
        }
        self.elf = elf
        architecture = RelocationArchitecture(elfMachine: elf.machine)
        do {
            let list = try elf.symbols(in: elf.symbolTableSection(.symtab))
            var byIndex = [ObjectSymbol?](repeating: nil, count: (list.map(\.index).max() ?? 0) + 1)
            var named: [Int: [ObjectSymbol]] = [:]
            var anonymous: [Int: [ObjectSymbol]] = [:]
            for symbol in list {
                byIndex[symbol.index] = symbol
                guard let section = symbol.sectionIndex, symbol.kind != .section, symbol.kind != .file else { continue }
                if Self.hasStableName(symbol) {
                    named[section, default: []].append(symbol)
                } else if symbol.size > 0 {
                    anonymous[section, default: []].append(symbol)
                }
            }
            symbols = byIndex
            namedSymbols = named.mapValues { $0.sorted { ($0.value, $0.name) < ($1.value, $1.name) } }
            anonymousSymbols = anonymous.mapValues { $0.sorted { ($0.value, $0.size) < ($1.value, $1.size) } }

            var relocations: [Int: [ELFRelocation]] = [:]
            for table in elf.relocationSections where table.targetSectionIndex > 0 && table.targetSectionIndex < elf.sections.count {
                // Debug info and other non-allocated sections carry no code or data the program runs.
                guard elf.sections[table.targetSectionIndex].flags & ELF.SectionFlags.alloc != 0 else { continue }
                var entries = try elf.relocations(in: table)
                if !table.hasAddends {
                    let bytes = try elf.contents(of: elf.sections[table.targetSectionIndex])
                    for index in entries.indices { entries[index].addend = Self.implicitAddend(of: entries[index], in: bytes, elf: elf) }
                }
                relocations[table.targetSectionIndex, default: []] += entries
            }
            self.relocations = relocations.mapValues { $0.sorted { $0.offset < $1.offset } }
        } catch let error as ObjectFileError {
            throw .unreadableObject(path: path, reason: error.description)
        } catch {
            throw .unreadableObject(path: path, reason: "\(error)")
        }
    }

    /// `SHT_REL` entries (32-bit x86, ARM) keep their addend in the bytes they patch: read it
    /// before those bytes are masked, so it is still compared.
    static func implicitAddend(of relocation: ELFRelocation, in bytes: [UInt8], elf: ELFFile) -> Int64 {
        let width = min(RelocationArchitecture(elfMachine: elf.machine).field(type: relocation.type, is64: elf.is64).width, 8)
        guard width > 0, relocation.offset <= UInt64(bytes.count), UInt64(bytes.count) - relocation.offset >= UInt64(width) else { return 0 }
        let start = Int(relocation.offset)
        var value: UInt64 = 0
        for index in 0..<width {
            let byte = UInt64(bytes[start + (elf.isBigEndian ? index : width - 1 - index)])
            value = value << 8 | byte
        }
        // Sign-extend from the field width.
        let shift = UInt64(64 - width * 8)
        return Int64(bitPattern: value << shift) >> Int64(shift)
    }

    /// Names that identify the same thing in two builds: not empty, not an assembler-local label
    /// (`.L…`, whose numbering shifts with every new literal), not an AArch64/ARM mapping symbol.
    static func hasStableName(_ symbol: ObjectSymbol) -> Bool {
        guard symbol.kind != .section, symbol.kind != .file, !symbol.name.isEmpty else { return false }
        if symbol.name.hasPrefix(".L") { return false }
        if symbol.name.hasPrefix("$") { return false }
        return true
    }

    func symbol(_ index: UInt32) -> ObjectSymbol? {
        Int(index) < symbols.count ? symbols[Int(index)] : nil
    }

    func section(_ index: Int) -> ELFFile.Section? {
        index > 0 && index < elf.sections.count ? elf.sections[index] : nil
    }

    /// The file bytes of section `index` (empty for `SHT_NOBITS`), read once.
    func contents(ofSection index: Int) throws(FunctionDiffError) -> [UInt8] {
        if let cached = contents[index] { return cached }
        guard let section = section(index) else { return [] }
        let bytes: [UInt8]
        do {
            bytes = try elf.contents(of: section)
        } catch {
            throw .unreadableObject(path: path, reason: error.description)
        }
        contents[index] = bytes
        return bytes
    }

    /// Relocations of section `index` whose offset lies in `range`.
    func relocations(inSection index: Int, range: Range<UInt64>) -> ArraySlice<ELFRelocation> {
        guard let all = relocations[index], !range.isEmpty else { return [] }
        let lower = Self.firstIndex(in: all, atOrAfter: range.lowerBound)
        let upper = Self.firstIndex(in: all, atOrAfter: range.upperBound)
        return all[lower..<upper]
    }

    private static func firstIndex(in relocations: [ELFRelocation], atOrAfter offset: UInt64) -> Int {
        var low = 0
        var high = relocations.count
        while low < high {
            let mid = (low + high) / 2
            if relocations[mid].offset < offset { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The stably-named symbol of section `index` that covers `offset` (aliases: the smallest
    /// name, so both sides pick the same one).
    func namedSymbol(inSection index: Int, covering offset: Int64) -> ObjectSymbol? {
        guard offset >= 0, let candidates = namedSymbols[index] else { return nil }
        let target = UInt64(offset)
        var best: ObjectSymbol?
        for symbol in candidates where symbol.value <= target && target - symbol.value < max(symbol.size, 1) {
            if best == nil || symbol.name < (best?.name ?? "") { best = symbol }
        }
        return best
    }

    /// The smallest anonymous sized symbol of section `index` that covers `offset`.
    func anonymousSymbol(inSection index: Int, covering offset: Int64) -> ObjectSymbol? {
        guard offset >= 0, let candidates = anonymousSymbols[index] else { return nil }
        let target = UInt64(offset)
        return candidates.filter { $0.value <= target && target - $0.value < $0.size }.min { $0.size < $1.size }
    }
}
