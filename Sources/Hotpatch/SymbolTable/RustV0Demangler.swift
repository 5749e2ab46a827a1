/// Decodes Rust's v0 symbol mangling (`_R…`, RFC 2603) for display, in the short form std's
/// backtraces and `llvm-cxxfilt` print: no crate hashes, closures as `{closure#N}`, generic
/// arguments, `<T as Trait>` impls, references, slices, tuples, `fn` and `dyn` types, integer,
/// bool and char constants. Anything else (or a malformed name) gives `nil`, and the caller shows
/// the mangled name.
///
/// Work is bounded (steps, recursion depth and output length), because back-references can
/// otherwise make a short hostile name expand exponentially.
///
/// The grammar's printers live in extensions by what they print (`+Paths`, `+Types`,
/// `+Constants`); the reader state and primitives they share are module-internal for them.
struct RustV0Demangler {
    let bytes: [UInt8]
    /// Where the mangled path starts (after `_R`): back-references count from here.
    private let origin: Int
    /// Where the path ends (before any vendor suffix).
    private let end: Int
    var position: Int
    private var output: [UInt8] = []
    var skipping = 0
    private var depth = 0
    private var steps = 0
    var boundLifetimes = 0

    private static let maximumDepth = 200
    private static let maximumSteps = 100_000
    private static let maximumOutput = 16_384

    struct Invalid: Error {}

    /// The demangled form of `name`, or `nil`.
    static func demangle(_ name: String) -> String? {
        let utf8 = Array(name.utf8)
        let start: Int
        if utf8.starts(with: [0x5f, 0x52]) {  // _R
            start = 2
        } else if utf8.starts(with: [0x5f, 0x5f, 0x52]) {  // __R (Mach-O)
            start = 3
        } else {
            return nil
        }
        // A vendor suffix (`.llvm.123`, `.0`, `.cold`) follows the path; `.llvm.` ones are dropped,
        // others shown in parentheses like llvm-cxxfilt does.
        var suffix = ""
        var end = utf8.count
        if let dot = utf8[start...].firstIndex(where: { $0 == 0x2e || $0 == 0x24 }) {  // '.' or '$'
            let text = String(decoding: utf8[dot...], as: UTF8.self)
            if !text.hasPrefix(".llvm.") { suffix = " (\(text))" }
            end = dot
        }
        var demangler = RustV0Demangler(bytes: utf8, origin: start, end: end, position: start)
        do {
            // An encoding version number (decimal) would precede the path; only version 0 exists.
            if let first = demangler.peek(), first >= 0x30, first <= 0x39 { return nil }
            try demangler.printPath(inValue: true)
            // An optional instantiating-crate path follows; it is not shown.
            if demangler.position < demangler.end {
                demangler.skipping += 1
                try demangler.printPath(inValue: false)
                demangler.skipping -= 1
            }
            guard demangler.position == demangler.end else { return nil }
        } catch {
            return nil
        }
        return String(decoding: demangler.output, as: UTF8.self) + suffix
    }

    // MARK: Reading

    func peek() -> UInt8? { position < end ? bytes[position] : nil }

    mutating func next() throws(Invalid) -> UInt8 {
        guard position < end else { throw Invalid() }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func eat(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        position += 1
        return true
    }

    private mutating func tick() throws(Invalid) {
        steps += 1
        guard steps < Self.maximumSteps, output.count < Self.maximumOutput else { throw Invalid() }
    }

    /// `{0-9a-zA-Z} "_"`: "_" is 0, otherwise the base-62 value plus one.
    mutating func base62() throws(Invalid) -> UInt64 {
        if eat(0x5f) { return 0 }
        var value: UInt64 = 0
        while true {
            let byte = try next()
            if byte == 0x5f { break }
            let digit: UInt64
            switch byte {
            case 0x30...0x39: digit = UInt64(byte - 0x30)
            case 0x61...0x7a: digit = UInt64(byte - 0x61) + 10
            case 0x41...0x5a: digit = UInt64(byte - 0x41) + 36
            default: throw Invalid()
            }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 62)
            let (sum, overflow2) = times.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { throw Invalid() }
            value = sum
        }
        guard value < UInt64.max else { throw Invalid() }
        return value + 1
    }

    /// `s <base-62>` or nothing (0).
    mutating func disambiguator() throws(Invalid) -> UInt64 {
        eat(0x73) ? try base62() + 1 : 0  // 's'
    }

    private mutating func decimal() throws(Invalid) -> Int {
        guard let first = peek(), first >= 0x30, first <= 0x39 else { throw Invalid() }
        if first == 0x30 {
            position += 1
            return 0
        }
        var value = 0
        while let digit = peek(), digit >= 0x30, digit <= 0x39 {
            value = value * 10 + Int(digit - 0x30)
            guard value <= end else { throw Invalid() }
            position += 1
        }
        return value
    }

    /// An identifier's bytes (a range of `bytes`) and whether they are punycode.
    struct Identifier {
        var range: Range<Int>
        var punycode: Bool
        var isEmpty: Bool { range.isEmpty }
    }

    /// `["u"] <decimal> ["_"] <bytes>`.
    mutating func undisambiguatedIdentifier() throws(Invalid) -> Identifier {
        let punycode = eat(0x75)  // 'u'
        let length = try decimal()
        _ = eat(0x5f)
        guard length <= end - position else { throw Invalid() }
        defer { position += length }
        return Identifier(range: position..<position + length, punycode: punycode)
    }

    mutating func identifier() throws(Invalid) -> (name: Identifier, disambiguator: UInt64) {
        let disambiguator = try disambiguator()
        return (try undisambiguatedIdentifier(), disambiguator)
    }

    mutating func out(_ identifier: Identifier) {
        guard skipping == 0 else { return }
        if identifier.punycode { out("punycode{") }
        output.append(contentsOf: bytes[identifier.range])
        if identifier.punycode { out("}") }
    }

    /// Runs `body` with the reader moved to a back-reference's target, then restores it.
    mutating func backref(_ body: (inout RustV0Demangler) throws(Invalid) -> Void) throws(Invalid) {
        let start = position - 1 - origin
        let target = try base62()
        guard target < UInt64(start) else { throw Invalid() }  // only backwards: no loops
        let saved = position
        position = origin + Int(target)
        try body(&self)
        position = saved
    }

    mutating func nested(_ body: (inout RustV0Demangler) throws(Invalid) -> Void) throws(Invalid) {
        depth += 1
        guard depth < Self.maximumDepth else { throw Invalid() }
        try tick()
        try body(&self)
        depth -= 1
    }

    mutating func out(_ text: String) {
        if skipping == 0 { output.append(contentsOf: text.utf8) }
    }
}
