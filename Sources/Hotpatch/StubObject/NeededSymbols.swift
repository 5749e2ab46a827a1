/// What the patch objects need from the running executable, sorted by how each reference gets
/// bound: through a stub trampoline, a stub absolute symbol, the dynamic loader, or a library.
///
/// Every list is sorted by name, so the same inputs give a byte-identical stub.
public struct NeededSymbols: Sendable, Equatable {
    /// A name the fat binary defines, with the file (unslid) address the stub will point at.
    public struct Resolved: Sendable, Hashable {
        public var name: String
        public var fileAddress: UInt64
        public var size: UInt64

        public init(name: String, fileAddress: UInt64, size: UInt64 = 0) {
            self.name = name
            self.fileAddress = fileAddress
            self.size = size
        }
    }

    /// A name the fat binary defines several times with no safe way to pick one.
    public struct Ambiguous: Sendable, Hashable {
        public var name: String
        /// The candidates' file addresses, ascending.
        public var fileAddresses: [UInt64]

        public init(name: String, fileAddresses: [UInt64]) {
            self.name = name
            self.fileAddresses = fileAddresses
        }
    }

    /// Functions: each gets a hidden trampoline in the stub that jumps to the running code.
    public var functions: [Resolved] = []
    /// Data: each gets a hidden absolute (`SHN_ABS`) symbol at its runtime address.
    public var data: [Resolved] = []
    /// Thread-locals and indirect functions the fat binary defines: left undefined so the
    /// dynamic loader binds them to the executable's exported symbols (`--export-dynamic`).
    public var boundByLoader: [String] = []
    /// Names the fat binary doesn't define (libc, libgcc_s, the dynamic loader) or that the
    /// linker defines for every output: left undefined for the link.
    public var leftUndefined: [String] = []
    /// Names defined several times in the fat binary with different meanings; left out of the
    /// stub. A patch that really uses one fails to load with the name in the loader's message.
    public var ambiguous: [Ambiguous] = []

    public init(
        functions: [Resolved] = [], data: [Resolved] = [], boundByLoader: [String] = [],
        leftUndefined: [String] = [], ambiguous: [Ambiguous] = []
    ) {
        self.functions = functions
        self.data = data
        self.boundByLoader = boundByLoader
        self.leftUndefined = leftUndefined
        self.ambiguous = ambiguous
    }

    /// Whether the stub would be empty (no trampolines, no absolute symbols).
    public var needsStub: Bool { !functions.isEmpty || !data.isEmpty }
}

extension NeededSymbols {
    /// The needed-symbols stage of the per-device link: sorts the names the patch objects reference but don't
    /// define (`undefinedInPatch`) by what the fat binary has for them.
    ///
    /// - function → trampoline; data or an untyped label → absolute symbol (a label in code is still
    ///   only an address the patch takes or calls through a PLT slot the linker resolves to it);
    /// - thread-local or indirect function → left to the dynamic loader;
    /// - not defined by the fat binary, or defined by the linker in every output → left undefined.
    ///
    /// Names the patch objects define themselves must not be passed in: they are not needed.
    public static func make(undefinedInPatch: [String], fatBinary: some SymbolSource) -> NeededSymbols {
        var needed = NeededSymbols()
        for name in Set(undefinedInPatch).sorted() where !name.isEmpty {
            if SymbolResolution.isLinkerDefined(name) {
                needed.leftUndefined.append(name)
                continue
            }
            let chosen: SymbolInfo
            switch SymbolResolution.resolve(fatBinary.definitions(named: name)) {
            case .none:
                needed.leftUndefined.append(name)
                continue
            case .unique(let symbol):
                chosen = symbol
            case .copies(let copies):
                guard let first = copies.first else { continue }
                chosen = first
            case .ambiguous(let candidates):
                needed.ambiguous.append(.init(name: name, fileAddresses: candidates.map(\.address)))
                continue
            }
            let resolved = NeededSymbols.Resolved(name: name, fileAddress: chosen.address, size: chosen.size)
            switch chosen.kind {
            case .function: needed.functions.append(resolved)
            case .data, .other: needed.data.append(resolved)
            case .threadLocal, .indirectFunction: needed.boundByLoader.append(name)
            }
        }
        return needed
    }
}
