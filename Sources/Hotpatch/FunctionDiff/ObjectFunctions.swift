/// The functions of one crate's relocatable objects, each reduced to a fingerprint of its machine
/// code with relocation sites masked and relocation targets described by name or content.
///
/// Several objects (codegen units) may be loaded as one set; a name defined more than once (a
/// generic instantiated in two codegen units) keeps every copy's fingerprint.
public struct ObjectFunctions: Sendable, Equatable {
    /// One definition of a function.
    public struct Function: Sendable, Hashable {
        public var name: String
        public var size: UInt64
        /// SHA-256 of the masked bytes and the relocation list.
        public var fingerprint: [UInt8]
        /// Symbols it references (directly or through anonymous constants such as vtables).
        public var references: Set<String>
    }

    /// The objects read, in the order given.
    public var objects: [String]
    /// Definitions by name.
    public var functions: [String: [Function]]

    public init(objects: [String], functions: [String: [Function]]) {
        self.objects = objects
        self.functions = functions
    }

    /// Reads every function of `objects` (relocatable ELF, x86_64 and AArch64 relocations are
    /// masked precisely, other architectures by whole words).
    public init(objects: [String]) throws(FunctionDiffError) {
        var perObject: [[Function]] = []
        for path in objects { perObject.append(try Self.functions(ofObjectAt: path)) }
        self.init(objects: objects, merging: perObject)
    }

    /// The functions of each of `objects` (`perObject`, in the same order) as one set.
    init(objects: [String], merging perObject: [[Function]]) {
        var functions: [String: [Function]] = [:]
        for function in perObject.joined() { functions[function.name, default: []].append(function) }
        self.init(objects: objects, functions: functions)
    }

    /// One object's functions, in symbol order.
    static func functions(ofObjectAt path: String) throws(FunctionDiffError) -> [Function] {
        try RelocatableObject(path: path).functionBodies().map {
            Function(name: $0.name, size: $0.symbol.size, fingerprint: $0.fingerprint, references: $0.references)
        }
    }

    /// Function names, sorted.
    public var names: [String] { functions.keys.sorted() }
}
