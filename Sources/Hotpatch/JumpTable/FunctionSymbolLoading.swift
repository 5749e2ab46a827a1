/// Why the symbols of a file could not be loaded.
public struct SymbolLoadingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable snake_case code.
    public var code: String
    public var message: String
    public var hint: String?

    public var description: String {
        guard let hint, !hint.isEmpty else { return message }
        return "\(message)\nhint: \(hint)"
    }
}

// TODO(lead, after merging h-objfile): SEAM. Replace the body with a read through `SymbolTable`,
// e.g. `try SymbolTable.parse(path:)` and, per defined entry, `SymbolInfo(name: e.name,
// address: e.address, size: e.size, kind: <.function/.data/.threadLocal/.other from e.kind; IFUNC
// → .indirectFunction if the flags say so>, binding: <from e.binding>, isDefined: e.defined)`,
// mapping SymbolTable errors to `SymbolLoadingError` (or rethrowing them). Conforming
// `SymbolTable` to `SymbolSource` (two methods) lets the stages take it directly.
/// The symbols of the binary or object at `path`, for ``DiffReport`` and `whisker-dev diff`.
public func loadFunctionSymbols(path: String) throws -> [SymbolInfo] {
    throw SymbolLoadingError(
        code: "symbol_reader_unavailable",
        message: "cannot read the symbols of \(path): the object-file reader is not wired into this build yet",
        hint: "this build of whisker-dev predates the SymbolTable integration")
}

extension DiffReport {
    /// The report between the files at `oldPath` and `newPath` (binaries or objects).
    public static func between(oldPath: String, newPath: String) throws -> DiffReport {
        DiffReport(oldFunctions: try loadFunctionSymbols(path: oldPath), newFunctions: try loadFunctionSymbols(path: newPath))
    }
}
