/// Decodes Rust symbol names for display.
///
/// Legacy mangling (`_ZN…E`, Itanium-style length-prefixed path segments): the trailing
/// `h<16 hex digits>` hash segment is dropped and `$…$` escapes are decoded (`$LT$` → `<`,
/// `$u20$` → ` `, `..` → `::`). v0 mangling (`_R…`, which std itself uses) is decoded by
/// `RustV0Demangler` in the short form backtraces print.
public enum RustDemangler {
    /// The demangled form of `name`, or `nil` if it is not a Rust (or Itanium-style) path.
    public static func demangle(_ name: String) -> String? {
        if name.utf8.first == 0x5f, let v0 = RustV0Demangler.demangle(name) {
            return v0
        }
        return demangleLegacy(name)
    }

    /// Legacy (`_ZN…E`) names only.
    static func demangleLegacy(_ name: String) -> String? {
        var utf8 = Array(name.utf8)
        // Accept `_ZN`, `ZN` and `__ZN` (Mach-O adds an underscore).
        var index: Int
        if utf8.starts(with: [0x5f, 0x5f, 0x5a, 0x4e]) {  // __ZN
            index = 4
        } else if utf8.starts(with: [0x5f, 0x5a, 0x4e]) {  // _ZN
            index = 3
        } else if utf8.starts(with: [0x5a, 0x4e]) {  // ZN
            index = 2
        } else {
            return nil
        }
        // LLVM may add a suffix after the final `E`: `.llvm.<hash>` (dropped, like rustc-demangle
        // does) or e.g. `.cold` (kept verbatim).
        var suffix = ""
        if let dot = utf8[index...].firstIndex(of: 0x2e), dot > index, utf8[dot - 1] == 0x45 {  // "E."
            suffix = String(decoding: utf8[dot...], as: UTF8.self)
            if suffix.hasPrefix(".llvm.") { suffix = "" }
            utf8.removeSubrange(dot...)
        }
        var segments: [String] = []
        while index < utf8.count, utf8[index] != 0x45 {  // 'E'
            var length = 0
            var digits = 0
            while index < utf8.count, utf8[index] >= 0x30, utf8[index] <= 0x39 {
                length = length * 10 + Int(utf8[index] - 0x30)
                index += 1
                digits += 1
                if length > utf8.count { return nil }
            }
            guard digits > 0, length > 0, index + length <= utf8.count else { return nil }
            segments.append(String(decoding: utf8[index..<index + length], as: UTF8.self))
            index += length
        }
        guard index == utf8.count - 1, !segments.isEmpty else { return nil }
        if segments.count > 1, let last = segments.last, isHash(last) { segments.removeLast() }
        let decoded = segments.map(decodeSegment)
        return decoded.joined(separator: "::") + suffix
    }

    /// `h` followed by 16 hex digits.
    private static func isHash(_ segment: String) -> Bool {
        let bytes = Array(segment.utf8)
        guard bytes.count == 17, bytes[0] == 0x68 else { return false }
        return bytes.dropFirst().allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    private static let escapes: [String: String] = [
        "SP": "@", "BP": "*", "RF": "&", "LT": "<", "GT": ">", "LP": "(", "RP": ")", "C": ",",
    ]

    /// Decodes `$..$` escapes and `..` path separators of one segment.
    private static func decodeSegment(_ segment: String) -> String {
        var text = Substring(segment)
        // A leading `_$` is an escape for a segment that would otherwise start with `$`.
        if text.hasPrefix("_$") { text = text.dropFirst() }
        var output = ""
        output.reserveCapacity(text.utf8.count)
        while let first = text.first {
            if first == "$", let end = text.dropFirst().firstIndex(of: "$") {
                let code = String(text[text.index(after: text.startIndex)..<end])
                if let replacement = escapes[code] {
                    output += replacement
                    text = text[text.index(after: end)...]
                    continue
                }
                if code.hasPrefix("u"), let scalarValue = UInt32(code.dropFirst(), radix: 16),
                   let scalar = Unicode.Scalar(scalarValue) {
                    output.unicodeScalars.append(scalar)
                    text = text[text.index(after: end)...]
                    continue
                }
                output.append(first)
                text = text.dropFirst()
            } else if first == ".", text.dropFirst().first == "." {
                output += "::"
                text = text.dropFirst(2)
            } else {
                output.append(first)
                text = text.dropFirst()
            }
        }
        return output
    }
}
