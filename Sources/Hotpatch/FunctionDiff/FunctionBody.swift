import Crypto
import ObjectFile

/// One function of a relocatable object, ready to compare: its bytes with every relocation site
/// masked, and each relocation as (offset in the function, type, target described by name or
/// content).
struct FunctionBody {
    struct Relocation {
        /// Offset from the function's first byte.
        var offset: UInt64
        var type: UInt32
        var field: RelocationField
        var target: RelocationTarget
        /// The raw entry, for comparing against a linked binary.
        var raw: ELFRelocation
    }

    var name: String
    /// The defining symbol.
    var symbol: ObjectSymbol
    var maskedBytes: [UInt8]
    var relocations: [Relocation]
    /// Names of the symbols the function references, directly or through anonymous constants
    /// (a vtable names its methods): the edges of the "calls changed code" closure.
    var references: Set<String>

    /// SHA-256 of size, masked bytes and relocation list: equal fingerprints mean the same
    /// machine code referring to the same things.
    var fingerprint: [UInt8] {
        var encoded: [UInt8] = []
        encoded.appendBytes(maskedBytes)
        encoded.appendInteger(UInt64(relocations.count))
        for relocation in relocations {
            encoded.appendInteger(relocation.offset)
            encoded.appendInteger(relocation.type)
            relocation.target.encode(into: &encoded)
        }
        return Array(SHA256.hash(data: encoded))
    }
}

extension RelocatableObject {
    /// Every defined function (`STT_FUNC`, `STT_GNU_IFUNC`) of the object with its masked body.
    ///
    /// Objects must be compiled with one section per function (rustc always is on ELF; clang
    /// with `-ffunction-sections`): a call between functions of one section is resolved by the
    /// assembler without a relocation, so moving a function would change its callers' bytes.
    func functionBodies() throws(FunctionDiffError) -> [FunctionBody] {
        var bodies: [FunctionBody] = []
        for case let symbol? in symbols
        where (symbol.kind == .function || symbol.kind == .ifunc) && symbol.isDefined && !symbol.name.isEmpty {
            guard let sectionIndex = symbol.sectionIndex else { continue }
            bodies.append(try body(of: symbol, inSection: sectionIndex))
        }
        return bodies
    }

    private func body(of symbol: ObjectSymbol, inSection sectionIndex: Int) throws(FunctionDiffError) -> FunctionBody {
        let section = try contents(ofSection: sectionIndex)
        let (end, overflow) = symbol.value.addingReportingOverflow(symbol.size)
        guard !overflow, end <= UInt64(section.count) else {
            throw .malformedFunction(
                path: path, function: symbol.name,
                reason: "bytes \(symbol.value)..<\(end) lie outside its section (\(section.count) bytes)")
        }
        var bytes = Array(section[Int(symbol.value)..<Int(end)])
        var relocations: [FunctionBody.Relocation] = []
        var references: Set<String> = []
        for raw in self.relocations(inSection: sectionIndex, range: symbol.value..<end) {
            let field = architecture.field(type: raw.type, is64: elf.is64)
            let offset = raw.offset - symbol.value
            mask(&bytes, at: Int64(offset), field: field)
            let (target, names) = try target(of: raw, field: field)
            references.formUnion(names)
            relocations.append(.init(offset: offset, type: raw.type, field: field, target: target, raw: raw))
        }
        references.remove(symbol.name)
        return FunctionBody(
            name: symbol.name, symbol: symbol, maskedBytes: bytes, relocations: relocations, references: references)
    }
}
