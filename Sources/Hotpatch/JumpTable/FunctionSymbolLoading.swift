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

extension DiffReport {
    /// The names-only report between the files at `oldBinary` and `newBinary` (binaries, libraries
    /// or objects): functions added, removed and kept by name, code not compared.
    public static func make(oldBinary: String, newBinary: String) throws -> DiffReport {
        DiffReport(oldFunctions: try functionSymbols(path: oldBinary), newFunctions: try functionSymbols(path: newBinary))
    }

    /// The symbols of the binary or object at `path`.
    private static func functionSymbols(path: String) throws -> [SymbolInfo] {
        let table: SymbolTable
        do {
            table = try SymbolTable.make(contentsOf: path)
        } catch {
            throw SymbolLoadingError(
                code: "unreadable_binary", message: "cannot read the symbols of \(path): \(error)",
                hint: "pass an ELF or Mach-O binary, shared library or object file")
        }
        return table.indices.map(table.symbolInfo(at:))
    }
}
