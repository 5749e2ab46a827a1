/// The v0 grammar's types: basic types, references and pointers, arrays, slices, tuples, `fn`
/// signatures and `dyn` trait objects.
extension RustV0Demangler {
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

    mutating func printType() throws(Invalid) {
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
}
