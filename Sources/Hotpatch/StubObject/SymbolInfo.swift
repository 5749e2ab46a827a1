/// One symbol of a binary or object, reduced to what the stub, jump-table and diff stages need.
///
/// A plain value so these stages work over any symbol reader: the pipeline fills it from its
/// `SymbolTable`, tests fill it from `llvm-nm -P` or by hand. `address` is the file (unslid)
/// address in linked images and the section offset in relocatable objects.
public struct SymbolInfo: Sendable, Hashable {
    /// What a symbol names, as far as stubs and jump tables care.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Code (ELF `STT_FUNC`).
        case function
        /// Storage (ELF `STT_OBJECT`, common blocks).
        case data
        /// A thread-local variable (ELF `STT_TLS`): only the dynamic loader can bind it.
        case threadLocal
        /// A GNU indirect function (`STT_GNU_IFUNC`): its address is the resolver, not the code,
        /// so it can't be reached through a trampoline; the dynamic loader must bind it.
        case indirectFunction
        /// Untyped labels, section and file symbols and everything else.
        case other
    }

    /// Who can see a symbol.
    public enum Binding: String, Sendable, Hashable, CaseIterable {
        case local
        case global
        case weak
    }

    public var name: String
    public var address: UInt64
    public var size: UInt64
    public var kind: Kind
    public var binding: Binding
    /// Whether this file defines the symbol (absolute and common symbols count as defined).
    public var isDefined: Bool

    public init(
        name: String, address: UInt64, size: UInt64 = 0, kind: Kind, binding: Binding = .global,
        isDefined: Bool = true
    ) {
        self.name = name
        self.address = address
        self.size = size
        self.kind = kind
        self.binding = binding
        self.isDefined = isDefined
    }

    public var isFunction: Bool { kind == .function }
    public var isData: Bool { kind == .data }
    public var isThreadLocal: Bool { kind == .threadLocal }
}
