/// The v0 grammar's paths: crate roots, nested items (closures and shims in braces), inherent and
/// trait impls (`<T as Trait>`), generic arguments, lifetimes and `for<…>` binders.
extension RustV0Demangler {
    mutating func printPath(inValue: Bool) throws(Invalid) {
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

    mutating func printLifetime(_ index: UInt64) throws(Invalid) {
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
    mutating func inBinder(_ body: (inout RustV0Demangler) throws(Invalid) -> Void) throws(Invalid) {
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
}
