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
        var name = name
        return name.withUTF8 { legacy($0) }
    }

    private static func legacy(_ utf8: UnsafeBufferPointer<UInt8>) -> String? {
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
        var end = utf8.count
        var suffix = ""
        if let dot = utf8[index...].firstIndex(of: 0x2e), dot > index, utf8[dot - 1] == 0x45 {  // "E."
            let text = String(decoding: utf8[dot...], as: UTF8.self)
            if !text.hasPrefix(".llvm.") { suffix = text }
            end = dot
        }
        var segments: [Range<Int>] = []
        segments.reserveCapacity(8)
        while index < end, utf8[index] != 0x45 {  // 'E'
            var length = 0
            var digits = 0
            while index < end, utf8[index] >= 0x30, utf8[index] <= 0x39 {
                length = length * 10 + Int(utf8[index] - 0x30)
                index += 1
                digits += 1
                if length > end { return nil }
            }
            guard digits > 0, length > 0, index + length <= end else { return nil }
            segments.append(index..<index + length)
            index += length
        }
        guard index == end - 1, let last = segments.last else { return nil }
        if segments.count > 1, isHash(utf8[last]) { segments.removeLast() }
        var output: [UInt8] = []
        output.reserveCapacity(end)
        for (position, segment) in segments.enumerated() {
            if position > 0 { output += [0x3a, 0x3a] }
            decodeSegment(utf8[segment], into: &output)
        }
        return String(decoding: output, as: UTF8.self) + suffix
    }

    /// `h` followed by 16 hex digits.
    private static func isHash(_ segment: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard segment.count == 17, segment.first == 0x68 else { return false }
        return segment.dropFirst().allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// The character a `$code$` escape stands for.
    private static func escape(_ code: Slice<UnsafeBufferPointer<UInt8>>) -> UInt8? {
        switch Array(code) {
        case [0x53, 0x50]: 0x40  // SP @
        case [0x42, 0x50]: 0x2a  // BP *
        case [0x52, 0x46]: 0x26  // RF &
        case [0x4c, 0x54]: 0x3c  // LT <
        case [0x47, 0x54]: 0x3e  // GT >
        case [0x4c, 0x50]: 0x28  // LP (
        case [0x52, 0x50]: 0x29  // RP )
        case [0x43]: 0x2c  // C ,
        default: nil
        }
    }

    /// Decodes `$..$` escapes and `..` path separators of one segment.
    private static func decodeSegment(_ segment: Slice<UnsafeBufferPointer<UInt8>>, into output: inout [UInt8]) {
        var index = segment.startIndex
        let end = segment.endIndex
        let base = segment.base
        // A leading `_$` is an escape for a segment that would otherwise start with `$`.
        if end - index >= 2, base[index] == 0x5f, base[index + 1] == 0x24 { index += 1 }
        while index < end {
            let byte = base[index]
            if byte == 0x24, let close = base[(index + 1)..<end].firstIndex(of: 0x24) {  // $…$
                let code = base[(index + 1)..<close]
                if let replacement = escape(code) {
                    output.append(replacement)
                    index = close + 1
                    continue
                }
                if code.first == 0x75,  // u<hex>
                   let value = UInt32(String(decoding: code.dropFirst(), as: UTF8.self), radix: 16),
                   let scalar = Unicode.Scalar(value) {
                    output += Array(String(scalar).utf8)
                    index = close + 1
                    continue
                }
                output.append(byte)
                index += 1
            } else if byte == 0x2e, index + 1 < end, base[index + 1] == 0x2e {  // ..
                output += [0x3a, 0x3a]
                index += 2
            } else {
                output.append(byte)
                index += 1
            }
        }
    }
}
