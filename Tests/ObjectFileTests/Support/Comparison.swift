import Foundation
import ObjectFile

/// A symbol reduced to what `llvm-nm -P -S` shows.
struct ComparableSymbol: Hashable, CustomStringConvertible {
    var name: String
    var value: UInt64
    var size: UInt64
    var defined: Bool

    var description: String {
        "\(name) \(defined ? "def" : "undef") \(String(value, radix: 16)) \(String(size, radix: 16))"
    }
}

enum Comparison {
    /// Our symbols minus what llvm-nm hides without `-a`: ELF section and file symbols, ARM and
    /// AArch64 mapping symbols, Mach-O debugging entries. Mach-O sizes are compared as 0 because
    /// llvm-nm always prints 0 for them.
    static func ours(_ object: ObjectFile) throws -> [ComparableSymbol] {
        let mappingPrefixes: [String] = switch object.architecture {
        case "aarch64": ["$x", "$d"]
        case "arm": ["$a", "$t", "$d"]
        default: []
        }
        let isMachO = object.format == .machO
        return try object.symbols.compactMap { symbol in
            if symbol.flags.contains(.debug) || symbol.kind == .section || symbol.kind == .file { return nil }
            if mappingPrefixes.contains(where: { symbol.name.hasPrefix($0) }) { return nil }
            return ComparableSymbol(
                name: symbol.name, value: symbol.value, size: isMachO ? 0 : symbol.size, defined: symbol.isDefined)
        }
    }

    static func theirs(_ symbols: [NmSymbol]) -> [ComparableSymbol] {
        symbols.map { ComparableSymbol(name: $0.name, value: $0.value, size: $0.size, defined: $0.isDefined) }
    }
}
