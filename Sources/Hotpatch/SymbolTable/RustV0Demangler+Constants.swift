/// The v0 grammar's constants (const generic arguments): integers, `bool` and `char`.
extension RustV0Demangler {
    mutating func printConst() throws(Invalid) {
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
