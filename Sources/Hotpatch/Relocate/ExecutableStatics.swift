import ObjectFile

/// The running executable's symbols as the relocate stage looks them up: statics and thread-locals
/// by the names a patch object uses for its own copies (same crate metadata, so the same mangled
/// names), and anything the patch leaves undefined.
struct ExecutableStatics {
    /// What the executable has under one name.
    enum Lookup: Equatable {
        /// Storage of the right kind: its file address (data) or `st_value` (thread-local, an
        /// offset into the TLS template) and size.
        case found(address: UInt64, size: UInt64)
        /// Nothing of that name: the static is new in this edit.
        case absent
        /// Something else of that name (a function, read-only data, several unrelated copies).
        case incompatible
    }

    let table: SymbolTable

    /// Writable storage named `name` (`.data`, `.bss` and their large-model twins; never RELRO:
    /// vtables and constant tables must come from the patch, they may have changed).
    func data(named name: String) -> Lookup {
        lookup(name) { kind, flags in
            (kind == .data || kind == .other) && flags.contains(.writable) && !flags.contains(.threadLocal)
                && !flags.contains(.executable)
        }
    }

    /// A thread-local named `name`.
    func threadLocal(named name: String) -> Lookup {
        lookup(name) { kind, flags in kind == .tls || flags.contains(.threadLocal) }
    }

    /// The local-exec offset from the thread pointer of the executable's thread-local at TLS
    /// template offset `value`: the value the static linker writes for the executable's own
    /// local-exec accesses, constant for the build.
    /// - x86_64, TLS variant II (the executable's block ends at the thread pointer):
    ///   `value − p_memsz − ((−p_vaddr − p_memsz) mod p_align)`, i.e. `value − align_up(p_memsz,
    ///   p_align)` for an aligned segment. `p_filesz` would be wrong: `.tbss` follows `.tdata`.
    /// - aarch64, TLS variant I (a 16-byte TCB at the thread pointer, the executable's block after
    ///   it): `value + 16 + ((p_vaddr − 16) mod p_align)`, i.e. `value + align_up(16, p_align)`
    ///   for an aligned segment (glibc and bionic alike; bionic asks executables for p_align ≥ 64).
    func threadPointerOffset(ofTemplateOffset value: UInt64) -> Int64? {
        guard let tls = table.tls else { return nil }
        let alignment = max(tls.alignment, 1)
        guard value <= UInt64(Int64.max) else { return nil }
        if table.architecture == "aarch64" {
            let tcbSize: UInt64 = 16
            let padding = (tls.address &- tcbSize) & (alignment &- 1)
            let (offset, overflow) = value.addingReportingOverflow(tcbSize + padding)
            guard !overflow, offset <= UInt64(Int64.max) else { return nil }
            return Int64(offset)
        }
        let padding = (0 &- tls.address &- tls.memSize) & (alignment &- 1)
        let (blockSize, overflow) = tls.memSize.addingReportingOverflow(padding)
        guard !overflow, blockSize <= UInt64(Int64.max) else { return nil }
        return Int64(value) - Int64(blockSize)
    }

    /// What the executable defines under `name`, for a reference the patch objects leave
    /// undefined: nil when nothing (libc, the loader), the name is linker-defined, or several
    /// unrelated definitions share it.
    func definition(named name: String) -> SymbolInfo? {
        guard !SymbolResolution.isLinkerDefined(name) else { return nil }
        switch SymbolResolution.resolve(table.definitions(named: name)) {
        case .none, .ambiguous: return nil
        case .unique(let symbol): return symbol
        case .copies(let copies): return copies.first
        }
    }

    private func lookup(_ name: String, accepts: (SymbolKind, ObjectSection.Flags) -> Bool) -> Lookup {
        let defined = table.allIndices(named: name).filter { table.isDefined(at: $0) }
        guard !defined.isEmpty else { return .absent }
        let suitable = defined.filter { index in
            let flags = table.sectionIndex(at: index).map { table.sections[$0].flags } ?? []
            return accepts(table.kind(at: index), flags)
        }
        guard !suitable.isEmpty else { return .incompatible }
        switch SymbolResolution.resolve(suitable.map { table.symbolInfo(at: $0) }) {
        case .none: return .absent
        case .unique(let symbol): return .found(address: symbol.address, size: symbol.size)
        case .copies(let copies):
            guard let first = copies.first else { return .absent }
            return .found(address: first.address, size: first.size)
        case .ambiguous:
            return .incompatible
        }
    }
}

