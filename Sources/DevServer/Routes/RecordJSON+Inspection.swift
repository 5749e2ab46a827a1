import HTTP
import Hotpatch

extension RecordJSON {
    /// `POST /api/diffs`'s answer (`DiffReport` in the spec).
    static func diff(_ diff: BinaryDiff) -> JSONValue {
        let report = diff.report
        return [
            "old": .string(diff.old), "new": .string(diff.new),
            "added": .int(Int64(report.addedCount)), "removed": .int(Int64(report.removedCount)),
            "changed": .int(Int64(report.changed.count)), "unchanged": .int(Int64(report.unchanged.count)),
            "summary": .string(report.summary),
            "functions": functions(changed: report.changed, added: report.added, removed: report.removed),
        ]
    }

    /// Changed, then added, then removed functions, each with its demangled name; at most
    /// `limit` of each kind when one is given (the counts stay exact).
    static func functions(changed: [String], added: [String], removed: [String], limit: Int? = nil) -> JSONValue {
        func entries(_ names: [String], _ change: JSONValue) -> [JSONValue] {
            names.prefix(limit ?? names.count).map {
                ["name": .string($0), "demangled": .string(RustDemangler.demangle($0) ?? $0), "change": change]
            }
        }
        return .array(entries(changed, "changed") + entries(added, "added") + entries(removed, "removed"))
    }

    /// How many functions of each kind a patch's `diff.functions` lists at most.
    static let patchFunctionLimit = 200

    /// `GET /api/symbols`'s answer (`Symbol`s and their count).
    static func symbols(_ listing: SymbolListing) -> JSONValue {
        let symbols: [JSONValue] = listing.symbols.map { symbol in
            [
                "name": .string(symbol.name), "demangled": .string(symbol.demangled),
                "address": .string(HexAddress.format(symbol.address)), "size": .int(Int64(symbol.size)),
                "kind": .string(symbol.kind.rawValue), "binding": .string(symbol.binding.rawValue),
                "section": .string(symbol.section),
            ]
        }
        return [
            "build": .string(listing.build), "symbols": .array(symbols), "total": .int(Int64(listing.total)),
            "truncated": .bool(listing.total > listing.symbols.count),
        ]
    }
}
