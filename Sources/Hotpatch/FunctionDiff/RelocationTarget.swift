import Crypto
import ObjectFile

/// What a relocation points at, described so that the same target compares equal in two builds
/// even though symbol indices, section numbers and anonymous-constant numbering differ.
enum RelocationTarget: Hashable {
    /// No symbol (`r_sym` 0): the addend alone.
    case none(addend: Int64)
    /// A symbol with a stable name (defined or not), `delta` bytes past its start (addend
    /// included, so `sym - 4` and `sym + 8` differ).
    case named(String, delta: Int64)
    /// An absolute symbol's value plus the addend.
    case absolute(UInt64)
    /// A NUL-terminated string in a mergeable string section (its offset there shifts whenever
    /// another literal is added, so it is compared by its bytes).
    case string([UInt8], delta: Int64)
    /// An anonymous section (a constant, a `Location`, a vtable, a jump table) compared by its
    /// content: a digest of its bytes with relocation sites masked and the targets of its own
    /// relocations described the same way.
    case content(digest: [UInt8], delta: Int64)
    /// A symbol index outside the symbol table: compared by index, so it never matches by accident.
    case invalid(UInt32)

    /// The name of the symbol this target is, if any: the callee / referenced-item graph.
    var name: String? {
        if case .named(let name, _) = self { return name }
        return nil
    }

    /// Appends a canonical encoding.
    func encode(into out: inout [UInt8]) {
        switch self {
        case .none(let addend): out.append(0); out.appendInteger(addend)
        case .named(let name, let delta): out.append(1); out.appendString(name); out.appendInteger(delta)
        case .absolute(let value): out.append(2); out.appendInteger(value)
        case .string(let bytes, let delta): out.append(3); out.appendBytes(bytes); out.appendInteger(delta)
        case .content(let digest, let delta): out.append(4); out.appendBytes(digest); out.appendInteger(delta)
        case .invalid(let index): out.append(5); out.appendInteger(index)
        }
    }
}

extension [UInt8] {
    mutating func appendInteger<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendBytes(_ bytes: [UInt8]) {
        appendInteger(UInt64(bytes.count))
        append(contentsOf: bytes)
    }

    mutating func appendString(_ string: String) {
        appendBytes(Array(string.utf8))
    }
}

/// Section flags that change what a referenced section *is* (writable, executable, TLS, merge,
/// strings): part of a content digest; the rest (e.g. `SHF_INFO_LINK`, `SHF_GROUP`) is not.
private let significantSectionFlags: UInt64 = ELF.SectionFlags.write | ELF.SectionFlags.alloc | ELF.SectionFlags.execinstr
    | ELF.SectionFlags.merge | ELF.SectionFlags.strings | ELF.SectionFlags.tls

/// A content digest and the names the content references (vtables name functions).
struct ContentSummary {
    var digest: [UInt8]
    var references: Set<String>
}

extension RelocatableObject {
    /// Anonymous constants may point at each other; past this depth a reference is described by
    /// its section's kind and size only.
    static let maximumContentDepth = 8

    /// Describes the target of `relocation` (whose field is `field`).
    func target(of relocation: ELFRelocation, field: RelocationField, depth: Int = 0) throws(FunctionDiffError) -> (RelocationTarget, Set<String>) {
        guard relocation.symbolIndex != 0 else { return (.none(addend: relocation.addend), []) }
        guard let symbol = symbol(relocation.symbolIndex) else { return (.invalid(relocation.symbolIndex), []) }
        if !symbol.isDefined || symbol.flags.contains(.common) {
            return (.named(symbol.name, delta: relocation.addend), [symbol.name])
        }
        if symbol.flags.contains(.absolute) {
            return (.absolute(symbol.value &+ UInt64(bitPattern: relocation.addend)), [])
        }
        if Self.hasStableName(symbol) {
            return (.named(symbol.name, delta: relocation.addend), [symbol.name])
        }
        guard let sectionIndex = symbol.sectionIndex, let section = section(sectionIndex) else {
            return (.named(symbol.name, delta: relocation.addend), [])
        }
        // A section symbol or a `.L` label: find what lies at the referenced offset.
        let offset = Int64(bitPattern: symbol.value) &+ relocation.addend
        let bias = field.lookupBias
        if let cover = namedSymbol(inSection: sectionIndex, covering: offset &+ bias) {
            return (.named(cover.name, delta: offset &- Int64(bitPattern: cover.value)), [cover.name])
        }
        if let constant = anonymousSymbol(inSection: sectionIndex, covering: offset &+ bias) {
            let range = ContentRange(section: sectionIndex, start: constant.value, end: constant.value &+ constant.size)
            let summary = try contentSummary(of: range, depth: depth)
            return (.content(digest: summary.digest, delta: offset &- Int64(bitPattern: constant.value)), summary.references)
        }
        if section.flags & ELF.SectionFlags.merge != 0, section.flags & ELF.SectionFlags.strings != 0 {
            let bytes = try contents(ofSection: sectionIndex)
            let start = offset &+ bias
            if start >= 0, start < Int64(bytes.count) {
                let begin = Int(start)
                let end = bytes[begin...].firstIndex(of: 0) ?? bytes.count
                return (.string(Array(bytes[begin..<end]), delta: -bias), [])
            }
        }
        let whole = ContentRange(section: sectionIndex, start: 0, end: section.size)
        let summary = try contentSummary(of: whole, depth: depth)
        return (.content(digest: summary.digest, delta: offset), summary.references)
    }

    /// The digest of `range` with its relocations described; memoised per object.
    func contentSummary(of range: ContentRange, depth: Int) throws(FunctionDiffError) -> ContentSummary {
        if let known = summaries[range] { return known }
        guard let section = section(range.section) else { return ContentSummary(digest: [], references: []) }
        guard range.start <= range.end, range.end <= section.size else {
            throw .unreadableObject(
                path: path, reason: "constant \(range.start)..<\(range.end) lies outside section \(section.name) (\(section.size) bytes)")
        }
        var encoded: [UInt8] = []
        encoded.appendInteger(section.type)
        encoded.appendInteger(section.flags & significantSectionFlags)
        encoded.appendInteger(range.end &- range.start)
        // A cycle or a deep chain: the kind and size stand in for the content. Not memoised, so the
        // full digest is still computed when the constant is reached on a shorter path.
        guard depth < Self.maximumContentDepth, !inProgress.contains(range) else {
            encoded.append(0xff)
            return ContentSummary(digest: Array(SHA256.hash(data: encoded)), references: [])
        }
        inProgress.insert(range)
        defer { inProgress.remove(range) }
        let all = try contents(ofSection: range.section)
        var bytes: [UInt8] = []
        if section.hasFileBytes {
            guard range.end <= UInt64(all.count) else {
                throw .unreadableObject(
                    path: path, reason: "constant \(range.start)..<\(range.end) lies outside section \(section.name) (\(all.count) bytes)")
            }
            bytes = Array(all[Int(range.start)..<Int(range.end)])
        }
        var references: Set<String> = []
        var relocationPart: [UInt8] = []
        for original in self.relocations(inSection: range.section, range: range.start..<range.end) {
            let field = architecture.field(type: original.type, is64: elf.is64)
            var relocation = original
            relocation.offset -= range.start
            mask(&bytes, at: Int64(clamping: relocation.offset), field: field)
            let (target, names) = try target(of: relocation, field: field, depth: depth + 1)
            relocationPart.appendInteger(relocation.offset)
            relocationPart.appendInteger(relocation.type)
            target.encode(into: &relocationPart)
            references.formUnion(names)
        }
        encoded.appendBytes(bytes)
        encoded.append(contentsOf: relocationPart)
        let summary = ContentSummary(digest: Array(SHA256.hash(data: encoded)), references: references)
        summaries[range] = summary
        return summary
    }
}

/// A byte range of one section: an anonymous constant, or a whole section.
struct ContentRange: Hashable {
    var section: Int
    var start: UInt64
    var end: UInt64
}

/// Clears the bits `field` covers at `offset` of `bytes` (clamped to the buffer).
func mask(_ bytes: inout [UInt8], at offset: Int64, field: RelocationField) {
    guard offset >= 0 else { return }
    for byte in 0..<field.width {
        let position = Int(offset) + byte
        guard position < bytes.count else { return }
        let bits = byte < 8 ? UInt8(truncatingIfNeeded: field.mask >> (UInt64(byte) * 8)) : 0xff
        bytes[position] &= ~bits
    }
}
