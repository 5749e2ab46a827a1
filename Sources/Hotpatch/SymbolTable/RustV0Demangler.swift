/// Decodes Rust's v0 symbol mangling (`_R…`, RFC 2603) for display, in the short form std's
/// backtraces and `llvm-cxxfilt` print: no crate hashes, closures as `{closure#N}`, generic
/// arguments, `<T as Trait>` impls, references, slices, tuples, `fn` and `dyn` types, integer,
/// bool and char constants. Anything else (or a malformed name) gives `nil`, and the caller shows
/// the mangled name.
///
/// Work is bounded (steps, recursion depth and output length), because back-references can
/// otherwise make a short hostile name expand exponentially.
struct RustV0Demangler {
    private let bytes: [UInt8]
    /// Where the mangled path starts (after `_R`): back-references count from here.
    private let origin: Int
    /// Where the path ends (before any vendor suffix).
    private let end: Int
    private var position: Int
    private var output: [UInt8] = []
    private var skipping = 0
    private var depth = 0
    private var steps = 0
    private var boundLifetimes = 0

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

    private func peek() -> UInt8? { position < end ? bytes[position] : nil }

    private mutating func next() throws(Invalid) -> UInt8 {
        guard position < end else { throw Invalid() }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func eat(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        position += 1
        return true
    }

    private mutating func tick() throws(Invalid) {
        steps += 1
        guard steps < Self.maximumSteps, output.count < Self.maximumOutput else { throw Invalid() }
    }

    /// `{0-9a-zA-Z} "_"`: "_" is 0, otherwise the base-62 value plus one.
    private mutating func base62() throws(Invalid) -> UInt64 {
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
    private mutating func disambiguator() throws(Invalid) -> UInt64 {
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
    private mutating func undisambiguatedIdentifier() throws(Invalid) -> Identifier {
        let punycode = eat(0x75)  // 'u'
        let length = try decimal()
        _ = eat(0x5f)
        guard length <= end - position else { throw Invalid() }
        defer { position += length }
        return Identifier(range: position..<position + length, punycode: punycode)
    }

    private mutating func identifier() throws(Invalid) -> (name: Identifier, disambiguator: UInt64) {
        let disambiguator = try disambiguator()
        return (try undisambiguatedIdentifier(), disambiguator)
    }

    private mutating func out(_ identifier: Identifier) {
        guard skipping == 0 else { return }
        if identifier.punycode { out("punycode{") }
        output.append(contentsOf: bytes[identifier.range])
        if identifier.punycode { out("}") }
    }

    /// Runs `body` with the reader moved to a back-reference's target, then restores it.
    private mutating func backref(_ body: (inout RustV0Demangler) throws(Invalid) -> Void) throws(Invalid) {
        let start = position - 1 - origin
        let target = try base62()
        guard target < UInt64(start) else { throw Invalid() }  // only backwards: no loops
        let saved = position
        position = origin + Int(target)
        try body(&self)
        position = saved
    }

    private mutating func nested(_ body: (inout RustV0Demangler) throws(Invalid) -> Void) throws(Invalid) {
        depth += 1
        guard depth < Self.maximumDepth else { throw Invalid() }
        try tick()
        try body(&self)
        depth -= 1
    }

    private mutating func out(_ text: String) {
        if skipping == 0 { output.append(contentsOf: text.utf8) }
    }

    // MARK: Paths

    private mutating func printPath(inValue: Bool) throws(Invalid) {
        try nested { (this: inout RustV0Demangler) throws(Invalid) in
            let tag = try this.next()
            switch tag {
            case 0x43:  // C: crate root
                this.out(try this.identifier().name)
            case 0x4e:  // N: nested path
                let namespace = try this.next()
                guard (0x41...0x5a).contains(namespace) || (0x61...0x7a).contains(namespace) else { throw Invalid() }
                try this.printPath(inValue: inValue)
                let (name, disambiguator) = try this.identifier()
                if (0x41...0x5a).contains(namespace) {
                    this.out("::{")
                    switch namespace {
                    case 0x43: this.out("closure")
                    case 0x53: this.out("shim")
                    default: this.out(String(UnicodeScalar(namespace)))
                    }
                    if !name.isEmpty {
                        this.out(":")
                        this.out(name)
                    }
                    this.out("#\(disambiguator)}")
                } else if !name.isEmpty {
                    this.out("::")
                    this.out(name)
                }
            case 0x4d, 0x58:  // M: inherent impl, X: trait impl
                _ = try this.disambiguator()
                this.skipping += 1
                try this.printPath(inValue: false)
                this.skipping -= 1
                this.out("<")
                try this.printType()
                if tag == 0x58 {
                    this.out(" as ")
                    try this.printPath(inValue: false)
                }
                this.out(">")
            case 0x59:  // Y: trait definition
                this.out("<")
                try this.printType()
                this.out(" as ")
                try this.printPath(inValue: false)
                this.out(">")
            case 0x49:  // I: generic arguments
                try this.printPath(inValue: inValue)
                this.out(inValue ? "::<" : "<")
                try this.printGenericArguments()
                this.out(">")
            case 0x42:  // B: back-reference
                try this.backref { (inner: inout RustV0Demangler) throws(Invalid) in try inner.printPath(inValue: inValue) }
            default:
                throw Invalid()
            }
        }
    }

    /// `{<generic-arg>} "E"`, separated by ", ".
    private mutating func printGenericArguments() throws(Invalid) {
        var first = true
        while !eat(0x45) {  // E
            if !first { out(", ") }
            first = false
            if eat(0x4c) {  // L: lifetime
                try printLifetime(try base62())
            } else if eat(0x4b) {  // K: const
                try printConst()
            } else {
                try printType()
            }
        }
    }

    private mutating func printLifetime(_ index: UInt64) throws(Invalid) {
        out("'")
        if index == 0 {
            out("_")
            return
        }
        guard index <= UInt64(boundLifetimes) else { throw Invalid() }
        let distance = UInt64(boundLifetimes) - index
        if distance < 26 {
            out(String(UnicodeScalar(UInt8(0x61) + UInt8(distance))))
        } else {
            out("_\(distance)")
        }
    }

    /// `G <base-62>` binds that many lifetimes (plus one) for `body`, printed as `for<'a, …> `.
    private mutating func inBinder(_ body: (inout RustV0Demangler) throws(Invalid) -> Void) throws(Invalid) {
        var bound: UInt64 = 0
        if eat(0x47) {  // G
            bound = try base62() + 1
            guard bound < 1000 else { throw Invalid() }
            out("for<")
            for index in 0..<bound {
                if index > 0 { out(", ") }
                boundLifetimes += 1
                try printLifetime(1)
            }
            out("> ")
        }
        try body(&self)
        boundLifetimes -= Int(bound)
    }

    // MARK: Types

    private static func basicType(_ tag: UInt8) -> String? {
        switch tag {
        case 0x61: "i8"
        case 0x62: "bool"
        case 0x63: "char"
        case 0x64: "f64"
        case 0x65: "str"
        case 0x66: "f32"
        case 0x68: "u8"
        case 0x69: "isize"
        case 0x6a: "usize"
        case 0x6c: "i32"
        case 0x6d: "u32"
        case 0x6e: "i128"
        case 0x6f: "u128"
        case 0x73: "i16"
        case 0x74: "u16"
        case 0x75: "()"
        case 0x76: "..."
        case 0x78: "i64"
        case 0x79: "u64"
        case 0x7a: "!"
        case 0x70: "_"
        default: nil
        }
    }

    private mutating func printType() throws(Invalid) {
        try nested { (this: inout RustV0Demangler) throws(Invalid) in
            let tag = try this.next()
            if let basic = Self.basicType(tag) {
                this.out(basic)
                return
            }
            switch tag {
            case 0x52, 0x51:  // R: &, Q: &mut
                this.out("&")
                if this.eat(0x4c) {  // L
                    let lifetime = try this.base62()
                    if lifetime != 0 {
                        try this.printLifetime(lifetime)
                        this.out(" ")
                    }
                }
                if tag == 0x51 { this.out("mut ") }
                try this.printType()
            case 0x50:  // P: *const
                this.out("*const ")
                try this.printType()
            case 0x4f:  // O: *mut
                this.out("*mut ")
                try this.printType()
            case 0x41:  // A: array
                this.out("[")
                try this.printType()
                this.out("; ")
                try this.printConst()
                this.out("]")
            case 0x53:  // S: slice
                this.out("[")
                try this.printType()
                this.out("]")
            case 0x54:  // T: tuple
                this.out("(")
                var count = 0
                while !this.eat(0x45) {
                    if count > 0 { this.out(", ") }
                    try this.printType()
                    count += 1
                }
                if count == 1 { this.out(",") }
                this.out(")")
            case 0x46:  // F: fn pointer
                try this.inBinder { (inner: inout RustV0Demangler) throws(Invalid) in try inner.printFunctionSignature() }
            case 0x44:  // D: dyn
                this.out("dyn ")
                try this.inBinder { (inner: inout RustV0Demangler) throws(Invalid) in
                    var first = true
                    while !inner.eat(0x45) {
                        if !first { inner.out(" + ") }
                        first = false
                        try inner.printDynTrait()
                    }
                }
                guard this.eat(0x4c) else { throw Invalid() }
                let lifetime = try this.base62()
                if lifetime != 0 {
                    this.out(" + ")
                    try this.printLifetime(lifetime)
                }
            case 0x42:  // B: back-reference
                try this.backref { (inner: inout RustV0Demangler) throws(Invalid) in try inner.printType() }
            default:
                // Named types are paths.
                this.position -= 1
                try this.printPath(inValue: false)
            }
        }
    }

    private mutating func printFunctionSignature() throws(Invalid) {
        if eat(0x55) { out("unsafe ") }  // U
        if eat(0x4b) {  // K: ABI
            let abi: String
            if eat(0x43) {  // C
                abi = "C"
            } else {
                let identifier = try undisambiguatedIdentifier()
                abi = String(decoding: bytes[identifier.range].map { $0 == 0x5f ? 0x2d : $0 }, as: UTF8.self)
            }
            out("extern \"\(abi)\" ")
        }
        out("fn(")
        var first = true
        while !eat(0x45) {
            if !first { out(", ") }
            first = false
            try printType()
        }
        out(")")
        if eat(0x75) { return }  // returns ()
        out(" -> ")
        try printType()
    }

    /// A `dyn` bound: a trait path whose generic list stays open for `Assoc = T` bindings.
    private mutating func printDynTrait() throws(Invalid) {
        var open = try printPathMaybeOpenGenerics()
        while eat(0x70) {  // p: associated type binding
            out(open ? ", " : "<")
            open = true
            out(try undisambiguatedIdentifier())
            out(" = ")
            try printType()
        }
        if open { out(">") }
    }

    private mutating func printPathMaybeOpenGenerics() throws(Invalid) -> Bool {
        if eat(0x42) {  // B
            var open = false
            try backref { (inner: inout RustV0Demangler) throws(Invalid) in open = try inner.printPathMaybeOpenGenerics() }
            return open
        }
        if eat(0x49) {  // I
            try printPath(inValue: false)
            out("<")
            var first = true
            while !eat(0x45) {
                if !first { out(", ") }
                first = false
                if eat(0x4c) {
                    try printLifetime(try base62())
                } else if eat(0x4b) {
                    try printConst()
                } else {
                    try printType()
                }
            }
            return true
        }
        try printPath(inValue: false)
        return false
    }

    // MARK: Constants

    private mutating func printConst() throws(Invalid) {
        try nested { (this: inout RustV0Demangler) throws(Invalid) in
            let tag = try this.next()
            switch tag {
            case 0x42:  // B
                try this.backref { (inner: inout RustV0Demangler) throws(Invalid) in try inner.printConst() }
            case 0x70:  // p: placeholder
                this.out("_")
            case 0x61, 0x73, 0x6c, 0x78, 0x6e, 0x69:  // signed integers
                let negative = this.eat(0x6e)  // n
                this.out((negative ? "-" : "") + (try this.hexValue()))
            case 0x68, 0x74, 0x6d, 0x79, 0x6f, 0x6a:  // unsigned integers
                this.out(try this.hexValue())
            case 0x62:  // bool
                switch try this.hexValue() {
                case "0": this.out("false")
                case "1": this.out("true")
                default: throw Invalid()
                }
            case 0x63:  // char
                guard let value = UInt32(try this.hexValue()), let scalar = Unicode.Scalar(value) else { throw Invalid() }
                this.out("'" + String(scalar).unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "'")
            default:
                throw Invalid()
            }
        }
    }

    /// `{hex} "_"` as decimal when it fits 64 bits, else `0x…`.
    private mutating func hexValue() throws(Invalid) -> String {
        let start = position
        while let byte = peek(), byte != 0x5f {
            guard (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) else { throw Invalid() }
            position += 1
        }
        let digits = String(decoding: bytes[start..<position], as: UTF8.self)
        guard eat(0x5f) else { throw Invalid() }
        if digits.isEmpty { return "0" }
        if let value = UInt64(digits, radix: 16) { return String(value) }
        return "0x" + digits
    }
}
