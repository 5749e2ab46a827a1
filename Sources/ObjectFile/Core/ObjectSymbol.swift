/// What a symbol names, normalised across ELF and Mach-O.
///
/// ELF takes it from `STT_*`; Mach-O has no symbol types, so a defined symbol's kind comes from its
/// section: code sections give `.function`, thread-local sections `.tls`, other sections `.object`.
public enum ObjectSymbolKind: UInt8, Sendable, Hashable, CaseIterable {
    /// No type recorded (ELF `STT_NOTYPE`, Mach-O undefined and absolute symbols).
    case notype
    /// Data (ELF `STT_OBJECT`, Mach-O symbols in non-code sections).
    case object
    /// Code (ELF `STT_FUNC`, Mach-O symbols in code sections).
    case function
    /// A section symbol (ELF `STT_SECTION`).
    case section
    /// A source file name (ELF `STT_FILE`).
    case file
    /// A common block (ELF `STT_COMMON` or `SHN_COMMON`, Mach-O undefined external with a size).
    case common
    /// A thread-local variable (ELF `STT_TLS`, Mach-O thread-local sections).
    case tls
    /// An indirect function resolved at load time (ELF `STT_GNU_IFUNC`).
    case ifunc
    /// Any other, processor- or OS-specific type.
    case other
}

/// A symbol's binding, normalised across ELF and Mach-O.
public enum ObjectSymbolBinding: UInt8, Sendable, Hashable, CaseIterable {
    /// Visible only inside its object (ELF `STB_LOCAL`, Mach-O without `N_EXT`).
    case local
    /// Visible to other objects (ELF `STB_GLOBAL`/`STB_GNU_UNIQUE`, Mach-O `N_EXT`).
    case global
    /// Global, but may be overridden or left unresolved (ELF `STB_WEAK`, Mach-O `N_WEAK_DEF`/`N_WEAK_REF`).
    case weak
}

/// Extra facts about a symbol that do not fit kind and binding.
public struct ObjectSymbolFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Not defined in this file (ELF `SHN_UNDEF`, Mach-O `N_UNDF` without a common size).
    public static let undefined = ObjectSymbolFlags(rawValue: 1 << 0)
    /// The value is an absolute number, not an address in a section (ELF `SHN_ABS`, Mach-O `N_ABS`).
    public static let absolute = ObjectSymbolFlags(rawValue: 1 << 1)
    /// A common block; the value is its alignment (ELF) or size (Mach-O).
    public static let common = ObjectSymbolFlags(rawValue: 1 << 2)
    /// A Mach-O debugging (`N_STAB`) entry; not a real symbol, skipped by most consumers.
    public static let debug = ObjectSymbolFlags(rawValue: 1 << 3)
    /// Mach-O `N_PEXT`: private external (made local by the static linker).
    public static let privateExtern = ObjectSymbolFlags(rawValue: 1 << 4)
    /// Mach-O `N_WEAK_DEF` on a defined symbol.
    public static let weakDefinition = ObjectSymbolFlags(rawValue: 1 << 5)
    /// Mach-O `N_WEAK_REF` on an undefined symbol.
    public static let weakReference = ObjectSymbolFlags(rawValue: 1 << 6)
    /// Mach-O `N_INDR`: an alias for another symbol by name.
    public static let indirect = ObjectSymbolFlags(rawValue: 1 << 7)
    /// ELF `STV_HIDDEN` or `STV_INTERNAL` visibility.
    public static let hidden = ObjectSymbolFlags(rawValue: 1 << 8)
    /// ELF `STV_PROTECTED` visibility.
    public static let protected = ObjectSymbolFlags(rawValue: 1 << 9)
    /// The size was derived (Mach-O: distance to the next symbol or the section end), not recorded.
    public static let derivedSize = ObjectSymbolFlags(rawValue: 1 << 10)
}

/// A symbol as the fast visitor sees it: no `String`, the name points into the mapped file.
///
/// `name` is valid only during the `forEachSymbol` callback that receives it.
public struct RawSymbol {
    /// Position in the file's symbol table (ELF: `st_name` table index, so 0 is never visited).
    public var index: Int
    /// The name's UTF-8 bytes, without a terminator.
    public var name: UnsafeRawBufferPointer
    /// ELF `st_value` / Mach-O `n_value`: a file (virtual) address for defined symbols in an image,
    /// a section offset in ELF relocatable objects.
    public var value: UInt64
    /// ELF `st_size`; Mach-O: derived from the next symbol (see ``ObjectSymbolFlags/derivedSize``).
    public var size: UInt64
    public var kind: ObjectSymbolKind
    public var binding: ObjectSymbolBinding
    /// Index into ``ObjectFile/sections`` of the defining section, or `nil` (undefined, absolute,
    /// common, or a reserved ELF section index).
    public var sectionIndex: Int?
    public var flags: ObjectSymbolFlags

    /// Whether the file defines the symbol (everything but undefined references).
    @inlinable public var isDefined: Bool { !flags.contains(.undefined) }

    /// Copies the name into a `String` (allocates).
    public var nameString: String { String(decoding: name, as: UTF8.self) }
}

/// A symbol with its name copied into a `String`: convenient, allocates per symbol.
public struct ObjectSymbol: Sendable, Hashable {
    public var index: Int
    public var name: String
    public var value: UInt64
    public var size: UInt64
    public var kind: ObjectSymbolKind
    public var binding: ObjectSymbolBinding
    public var sectionIndex: Int?
    public var flags: ObjectSymbolFlags

    public var isDefined: Bool { !flags.contains(.undefined) }

    /// Copies a visitor record.
    public init(_ raw: RawSymbol) {
        index = raw.index
        name = raw.nameString
        value = raw.value
        size = raw.size
        kind = raw.kind
        binding = raw.binding
        sectionIndex = raw.sectionIndex
        flags = raw.flags
    }
}
