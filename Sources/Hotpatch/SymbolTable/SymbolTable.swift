import ObjectFile

/// The symbols of one binary: every entry of its symbol table with name, file address, size,
/// kind, binding, definedness and section, plus an O(1) index by name.
///
/// A value type over immutable shared storage: columns of fixed-width fields, one blob of name
/// bytes and an open-addressing hash index over the names. This makes parsing a 165k-symbol
/// library a few copies and inserts, and lets ``HotpatchModuleCache`` load a table with one read
/// and a checksum. Entries keep the order of the file's symbol table (ELF index 0 and Mach-O
/// debugging entries are left out).
public struct SymbolTable: Sendable, RandomAccessCollection {
    public typealias Index = Int

    /// One symbol, with its name copied into a `String`.
    public struct Entry: Sendable, Hashable {
        /// Position in the table (not the file's symbol index).
        public var index: Int
        public var name: String
        /// ELF `st_value` / Mach-O `n_value`: the file (unslid) address in linked images, the
        /// section offset in ELF relocatable objects.
        public var address: UInt64
        /// ELF `st_size`; for Mach-O, derived (distance to the next symbol in its section).
        public var size: UInt64
        public var kind: SymbolKind
        public var binding: SymbolBinding
        /// Whether this file defines the symbol (absolute and common symbols count as defined).
        public var defined: Bool
        /// Section name (Mach-O: `__TEXT,__text`), "" for undefined, absolute and common symbols.
        public var section: String
        /// Index into ``SymbolTable/sections`` or `nil`.
        public var sectionIndex: Int?
        /// Format details: absolute, common, hidden, weak definition, ….
        public var flags: ObjectSymbolFlags

        /// The name for display: Rust legacy mangling (`_ZN…E`) decoded without its hash,
        /// everything else unchanged.
        public var demangledName: String { RustDemangler.demangle(name) ?? name }
    }

    let storage: SymbolTableStorage

    /// `x86_64`, `aarch64`, `i386` (ELF) or `arm64`, `x86_64` (Mach-O).
    public let architecture: String
    /// `.elf` or `.machO`.
    public let format: ObjectFormat
    /// Relocatable object, executable or shared library.
    public let fileType: ObjectFileType
    /// The binary's sections, indexed by ``Entry/sectionIndex``.
    public let sections: [ObjectSection]
    /// ELF `PT_TLS` of the image, if any.
    public let tls: TLSSegment?
    /// Whether the symbols came from ELF `.dynsym` because the file has no `.symtab`.
    public let fromDynamicSymbols: Bool

    init(
        storage: SymbolTableStorage, architecture: String, format: ObjectFormat, fileType: ObjectFileType,
        sections: [ObjectSection], tls: TLSSegment?, fromDynamicSymbols: Bool
    ) {
        self.storage = storage
        self.architecture = architecture
        self.format = format
        self.fileType = fileType
        self.sections = sections
        self.tls = tls
        self.fromDynamicSymbols = fromDynamicSymbols
    }

    /// `PT_TLS`'s `p_memsz` and `p_align`, which turn a TLS symbol's value into a thread-pointer
    /// offset (`st_value - align_up(memSize, alignment)` on x86_64).
    public var tlsSegment: (memSize: UInt64, alignment: UInt64)? {
        tls.map { ($0.memSize, $0.alignment) }
    }

    // MARK: Collection

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.count }
    public var count: Int { storage.count }

    public subscript(position: Int) -> Entry {
        precondition(position >= 0 && position < storage.count, "symbol index out of range")
        return Entry(
            index: position, name: name(at: position), address: address(at: position), size: size(at: position),
            kind: kind(at: position), binding: binding(at: position), defined: isDefined(at: position),
            section: sectionName(at: position), sectionIndex: sectionIndex(at: position), flags: flags(at: position))
    }

    // MARK: Lookup by name

    /// The best entry named `name`: a defined global, else a defined weak, else a defined local,
    /// else an undefined one (the first in table order among equals). O(1).
    public subscript(name: String) -> Entry? {
        lookup(name)
    }

    /// Same as `table[name]`.
    public func lookup(_ name: String) -> Entry? {
        index(named: name).map { self[$0] }
    }

    /// Index of the best entry named `name` (see ``lookup(_:)``).
    public func index(named name: String) -> Int? {
        var name = name
        let storage = self.storage
        return name.withUTF8 { utf8 in
            withExtendedLifetime(storage) { storage.find(UnsafeRawBufferPointer(utf8)) }
        }
    }

    /// Index of the best entry whose name is `bytes` (no `String` needed).
    public func index(namedBytes bytes: UnsafeRawBufferPointer) -> Int? {
        withExtendedLifetime(storage) { storage.find(bytes) }
    }

    /// Every index whose name is `name`, ascending.
    public func allIndices(named name: String) -> [Int] {
        guard let head = index(named: name) else { return [] }
        var result = [head]
        var next = storage.nextSameName[head]
        // Bounded so a damaged chain can never loop.
        while next != SymbolTableStorage.none, Int(next) < storage.count, result.count < storage.count {
            result.append(Int(next))
            next = storage.nextSameName[Int(next)]
        }
        return result.sorted()
    }

    // MARK: Columns (no `Entry` or `String` needed)

    public func name(at index: Int) -> String {
        withNameBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the UTF-8 bytes of entry `index`'s name, valid during the call.
    public func withNameBytes<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(index >= 0 && index < storage.count, "symbol index out of range")
        return try withExtendedLifetime(storage) { try body(storage.nameBytes(index)) }
    }

    public func address(at index: Int) -> UInt64 { storage.addresses[checked(index)] }
    public func size(at index: Int) -> UInt64 { storage.sizes[checked(index)] }
    public func kind(at index: Int) -> SymbolKind { SymbolKind(code: storage.kinds[checked(index)]) }
    public func binding(at index: Int) -> SymbolBinding { SymbolBinding(code: storage.bindings[checked(index)]) }
    public func flags(at index: Int) -> ObjectSymbolFlags { ObjectSymbolFlags(rawValue: storage.flags[checked(index)]) }
    public func isDefined(at index: Int) -> Bool {
        storage.flags[checked(index)] & ObjectSymbolFlags.undefined.rawValue == 0
    }

    public func sectionIndex(at index: Int) -> Int? {
        let value = storage.sectionIndices[checked(index)]
        return value == SymbolTableStorage.none || Int(value) >= sections.count ? nil : Int(value)
    }

    /// The section's display name ("" without one); Mach-O names are `segment,section`.
    public func sectionName(at index: Int) -> String {
        guard let section = sectionIndex(at: index).map({ sections[$0] }) else { return "" }
        return section.segment.isEmpty ? section.name : "\(section.segment),\(section.name)"
    }

    /// The demangled display name of entry `index`.
    public func demangledName(at index: Int) -> String {
        let raw = name(at: index)
        return RustDemangler.demangle(raw) ?? raw
    }

    @inline(__always)
    private func checked(_ index: Int) -> Int {
        precondition(index >= 0 && index < storage.count, "symbol index out of range")
        return index
    }

    // MARK: Filters

    /// The entries this file defines, in table order.
    public var defined: LazyMapSequence<LazyFilterSequence<Range<Int>>, Entry> {
        let table = self
        return indices.lazy.filter { table.isDefined(at: $0) }.map { table[$0] }
    }

    /// The entries this file references but does not define, in table order.
    public var undefined: LazyMapSequence<LazyFilterSequence<Range<Int>>, Entry> {
        let table = self
        return indices.lazy.filter { !table.isDefined(at: $0) }.map { table[$0] }
    }

    /// Number of defined entries.
    public var definedCount: Int {
        var total = 0
        for index in 0..<storage.count where storage.flags[index] & ObjectSymbolFlags.undefined.rawValue == 0 {
            total += 1
        }
        return total
    }
}
