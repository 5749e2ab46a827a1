import ObjectFile

/// Why a stub object could not be made: a name the ELF format can't carry, a name asked for
/// twice, or the file not being writable.
public struct StubObjectError: HotpatchError, Equatable {
    /// Stable snake_case code (`invalid_symbol_name`, `duplicate_symbol`, `too_large`, `write_failed`).
    public var code: String
    /// What failed, naming the symbol or path.
    public var message: String
    /// How to fix it, when there's something to do.
    public var hint: String?

    static func invalidSymbolName(_ name: String) -> StubObjectError {
        StubObjectError(
            code: "invalid_symbol_name",
            message: "stub object: symbol name \(name.debugDescription) is empty or contains a NUL byte",
            hint: "the symbol names come from the patch objects' undefined symbols; check the object reader")
    }

    static func duplicateSymbol(_ name: String) -> StubObjectError {
        StubObjectError(
            code: "duplicate_symbol",
            message: "stub object: \(name.debugDescription) is asked for as a function and as data",
            hint: "pass each needed name once (NeededSymbols.make does)")
    }

    static func tooLarge(_ what: String) -> StubObjectError {
        StubObjectError(
            code: "too_large", message: "stub object: the \(what) exceeds the 4 GiB an ELF64 string/section offset can address",
            hint: nil)
    }

    /// Why ObjectFile's writer refused the stub's (or the fixup object's) layout.
    static func writing(_ error: ELFWriteError) -> StubObjectError {
        switch error {
        case .invalidName(let name), .unknownRelocationSymbol(let name): .invalidSymbolName(name)
        case .tooLarge(let what): .tooLarge(what)
        case .invalidAlignment(let section, let alignment):
            StubObjectError(
                code: "invalid_alignment",
                message: "stub object: section \(section) asks for alignment \(alignment), not a power of two up to \(ELFRelocatableWriter.maximumAlignment)",
                hint: nil)
        }
    }

    static func writeFailed(path: String, reason: String) -> StubObjectError {
        StubObjectError(
            code: "write_failed", message: "could not write the stub object to \(path): \(reason)",
            hint: "check that the patch directory exists and is writable")
    }
}
