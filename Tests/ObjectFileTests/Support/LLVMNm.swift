import Foundation

/// One line of `llvm-nm -P -S` output.
struct NmSymbol: Hashable, CustomStringConvertible {
    var name: String
    var type: Character
    var value: UInt64
    var size: UInt64

    var isDefined: Bool { !"Uwv".contains(type) }

    var description: String { "\(name) \(type) \(String(value, radix: 16)) \(String(size, radix: 16))" }
}

enum LLVMNm {
    /// `llvm-nm -P -S [extra] path`, parsed. `dynamic` adds `-D` and strips `@VERSION` suffixes.
    static func symbols(_ path: String, dynamic: Bool = false, extra: [String] = []) throws -> [NmSymbol] {
        let arguments = ["-P", "-S"] + (dynamic ? ["-D"] : []) + extra + [path]
        let output = try Tools.runChecked(Tools.llvmNm, arguments)
        return parse(output.stdout, stripVersions: dynamic)
    }

    static func parse(_ text: String, stripVersions: Bool) -> [NmSymbol] {
        var result: [NmSymbol] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            // `name type [value [size]]`; values are hex.
            while fields.count > 2, fields.last == "" { fields.removeLast() }
            guard fields.count >= 2 else { continue }
            var name: String
            var type: String
            var value: UInt64 = 0
            var size: UInt64 = 0
            if fields.count >= 4, let v = UInt64(fields[fields.count - 2], radix: 16),
               let s = UInt64(fields[fields.count - 1], radix: 16) {
                name = fields[0..<(fields.count - 3)].joined(separator: " ")
                type = fields[fields.count - 3]
                value = v
                size = s
            } else if fields.count >= 3, let v = UInt64(fields[fields.count - 1], radix: 16) {
                name = fields[0..<(fields.count - 2)].joined(separator: " ")
                type = fields[fields.count - 2]
                value = v
            } else {
                name = fields[0..<(fields.count - 1)].joined(separator: " ")
                type = fields[fields.count - 1]
            }
            if stripVersions, let at = name.firstIndex(of: "@"), at != name.startIndex {
                name = String(name[..<at])
            }
            guard let letter = type.first else { continue }
            result.append(NmSymbol(name: name, type: letter, value: value, size: size))
        }
        return result
    }
}

/// Multiset difference helpers for readable failures.
func multiset<T: Hashable>(_ items: [T]) -> [T: Int] {
    var counts: [T: Int] = [:]
    for item in items { counts[item, default: 0] += 1 }
    return counts
}

/// Items whose count differs, at most `limit`, as "±count item" lines.
func multisetDifference<T: Hashable & CustomStringConvertible>(_ ours: [T], _ theirs: [T], limit: Int = 20) -> [String] {
    let a = multiset(ours)
    let b = multiset(theirs)
    var lines: [String] = []
    for (item, count) in a where b[item, default: 0] != count {
        lines.append("ours \(count) vs llvm-nm \(b[item, default: 0]): \(item)")
        if lines.count >= limit { return lines }
    }
    for (item, count) in b where a[item] == nil {
        lines.append("ours 0 vs llvm-nm \(count): \(item)")
        if lines.count >= limit { return lines }
    }
    return lines
}
