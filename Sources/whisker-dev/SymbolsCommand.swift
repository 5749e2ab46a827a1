#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Hotpatch
import ObjectFile

/// `whisker-dev symbols FILE`: the symbol table of an ELF, Mach-O or universal binary, through the
/// module cache.
struct SymbolsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "symbols",
        abstract: "List the symbols of an ELF, Mach-O or universal binary.",
        discussion: """
            Reads .symtab (or .dynsym for stripped ELF files) or LC_SYMTAB, through the symbol cache. \
            The table shows demangled names; --json prints one array of \
            {"name", "address", "size", "kind", "binding", "defined", "section"} with raw names.
            """)

    @Argument(help: "The binary to read.")
    var file: String

    @Flag(help: "Print one JSON array instead of a table.")
    var json = false

    @Flag(name: .customLong("defined-only"), help: "Only symbols the file defines.")
    var definedOnly = false

    @Option(name: .customLong("match"), help: ArgumentHelp("Only symbols whose name or demangled name contains this text.", valueName: "text"))
    var match: String?

    @Option(name: .customLong("arch"), help: ArgumentHelp("Slice of a universal Mach-O: arm64 or x86_64.", valueName: "arch"))
    var architecture: String?

    @OptionGroup var cache: CacheOptions

    static let architectures = ["arm64", "x86_64"]

    func validate() throws {
        if let architecture, !Self.architectures.contains(architecture) {
            throw ValidationError("--arch must be one of \(Self.architectures.joined(separator: ", ")), not '\(architecture)'")
        }
    }

    func run() throws {
        let table: SymbolTable
        do {
            table = try CachedSymbolTable.make(forBinaryAt: file, architecture: architecture, cache: cache.makeModuleCache()).table
        } catch {
            // One line, no usage text: what failed and where.
            Self.writeError("whisker-dev symbols: \(error)")
            throw ExitCode.failure
        }
        let needle = match.map { Array($0.utf8) }
        let selected = table.indices.filter { index in
            if definedOnly, !table.isDefined(at: index) { return false }
            guard let needle else { return true }
            return table.withNameBytes(at: index) { Self.contains($0, needle) }
                || Self.contains(table.demangledName(at: index), needle)
        }
        let output = json ? SymbolsOutput.json(table, selected) : SymbolsOutput.table(table, selected)
        Self.writeOut(output)
    }

    /// Byte-wise substring test (`String.contains` compares characters, which is far slower).
    static func contains(_ haystack: String, _ needle: [UInt8]) -> Bool {
        var haystack = haystack
        return haystack.withUTF8 { contains(UnsafeRawBufferPointer($0), needle) }
    }

    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = 1
                while matched < needle.count, haystack[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return true }
            }
            index += 1
        }
        return false
    }

    static func writeError(_ line: String) {
        write(line.split(separator: "\n").joined(separator: " ") + "\n", to: STDERR_FILENO)
    }

    static func writeOut(_ text: String) {
        write(text, to: STDOUT_FILENO)
    }

    private static func write(_ text: String, to descriptor: Int32) {
        var text = text
        // A closed pipe (`| head`) ends the output quietly.
        _ = text.withUTF8 { writeAll(descriptor, UnsafeRawBufferPointer($0)) }
    }
}

/// Renders a symbol selection as text.
enum SymbolsOutput {
    /// `ADDRESS SIZE KIND BINDING SECTION NAME` columns, demangled names, a count at the end.
    static func table(_ table: SymbolTable, _ indices: [Int]) -> String {
        var out = "ADDRESS             SIZE      KIND      BINDING  SECTION             NAME\n"
        out.reserveCapacity(indices.count * 120)
        for index in indices {
            let address = table.isDefined(at: index) ? "0x" + pad(hex(table.address(at: index)), 16, "0") : "undefined"
            out += pad(address, 18, " ", left: false) + "  "
            out += pad(String(table.size(at: index)), 8, " ", left: false) + "  "
            out += pad(table.kind(at: index).rawValue, 8, " ", left: false) + "  "
            out += pad(table.binding(at: index).rawValue, 7, " ", left: false) + "  "
            out += pad(table.sectionName(at: index), 18, " ", left: false) + "  "
            out += table.demangledName(at: index) + "\n"
        }
        let defined = indices.reduce(0) { $0 + (table.isDefined(at: $1) ? 1 : 0) }
        out += "\(indices.count) symbols (\(defined) defined) of \(table.count) in the \(table.format.rawValue) \(table.architecture) \(table.fileType.rawValue)\n"
        return out
    }

    /// One JSON array; addresses as `"0x…"` strings (they exceed what JSON numbers carry safely).
    static func json(_ table: SymbolTable, _ indices: [Int]) -> String {
        var out = "["
        out.reserveCapacity(indices.count * 160)
        for (position, index) in indices.enumerated() {
            if position > 0 { out += ",\n" }
            out += "{\"name\":"
            appendJSONString(table.name(at: index), to: &out)
            out += ",\"address\":\"0x" + hex(table.address(at: index)) + "\""
            out += ",\"size\":" + String(table.size(at: index))
            out += ",\"kind\":\"" + table.kind(at: index).rawValue + "\""
            out += ",\"binding\":\"" + table.binding(at: index).rawValue + "\""
            out += ",\"defined\":" + (table.isDefined(at: index) ? "true" : "false")
            out += ",\"section\":"
            appendJSONString(table.sectionName(at: index), to: &out)
            out += "}"
        }
        out += "]\n"
        return out
    }

    static func appendJSONString(_ value: String, to out: inout String) {
        out += "\""
        // Symbol names almost never need escaping: append them whole.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5c }) {
            out += value
            out += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u00" + pad(hex(UInt64(scalar.value)), 2, "0")
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    static func hex(_ value: UInt64) -> String { String(value, radix: 16) }

    static func pad(_ text: String, _ width: Int, _ fill: Character, left: Bool = true) -> String {
        let count = text.count
        guard count < width else { return text }
        let padding = String(repeating: fill, count: width - count)
        return left ? padding + text : text + padding
    }
}
