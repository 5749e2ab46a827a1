/// Why the symbols of a file could not be loaded.
public struct SymbolLoadingError: HotpatchError, Equatable {
    /// Stable snake_case code.
    public var code: String
    public var message: String
    public var hint: String?

    public var description: String {
        guard let hint, !hint.isEmpty else { return message }
        return "\(message)\nhint: \(hint)"
    }
}

/// The symbols of the binary or object at `path`, for ``DiffReport`` and `whisker-dev diff`.
public func loadFunctionSymbols(path: String) throws -> [SymbolInfo] {
    let table: SymbolTable
    do {
        table = try SymbolTable(contentsOf: path)
    } catch {
        throw SymbolLoadingError(
            code: "unreadable_binary", message: "cannot read the symbols of \(path): \(error)",
            hint: "pass an ELF or Mach-O binary, shared library or object file")
    }
    return table.indices.map(table.symbolInfo(at:))
}

extension DiffReport {
    /// The report between the files at `oldPath` and `newPath` (binaries or objects).
    public static func between(oldPath: String, newPath: String) throws -> DiffReport {
        DiffReport(oldFunctions: try loadFunctionSymbols(path: oldPath), newFunctions: try loadFunctionSymbols(path: newPath))
    }
}
