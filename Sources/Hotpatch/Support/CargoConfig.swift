import Foundation

/// Just enough of cargo's configuration files to answer the questions the pipeline asks
/// (`target.<triple>.linker`, `build.target`): string values under `[table]` headers or dotted
/// keys, in the files cargo would read, nearest first. Anything fancier (arrays, inline tables,
/// multi-line strings, `cfg(...)` tables) is skipped rather than misread.
public struct CargoConfig: Sendable {
    /// One file's string values by dotted key path (`target.x86_64-unknown-linux-gnu.linker`).
    public struct File: Sendable {
        public let path: URL
        public let values: [String: String]

        /// The directory config-relative paths are resolved against: the parent of `.cargo/`.
        public var baseDirectory: URL { path.deletingLastPathComponent().deletingLastPathComponent() }
    }

    /// Nearest first: `<dir>/.cargo/config.toml` (or `config`) from `directory` up to `/`, then `$CARGO_HOME`.
    public let files: [File]

    public init(files: [File]) { self.files = files }

    public init(directory: URL, environment: [String: String]) {
        var found: [File] = []
        var seen: Set<String> = []
        func add(_ dotCargo: URL) {
            for name in ["config.toml", "config"] {
                let url = dotCargo.appendingPathComponent(name)
                guard !seen.contains(url.path), let data = FileManager.default.contents(atPath: url.path) else { continue }
                seen.insert(url.path)
                found.append(File(path: url, values: Self.parse(String(decoding: data, as: UTF8.self))))
                return // cargo reads `config.toml` and ignores `config` when both exist
            }
        }
        var current = directory.standardizedFileURL
        while true {
            add(current.appendingPathComponent(".cargo"))
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path || current.path == "/" { break }
            current = parent
        }
        let cargoHome = environment["CARGO_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".cargo")
        add(cargoHome)
        files = found
    }

    /// The nearest file's value for `keyPath`, with that file.
    public func string(_ keyPath: [String]) -> (value: String, file: File)? {
        let key = keyPath.joined(separator: ".")
        for file in files {
            if let value = file.values[key] { return (value, file) }
        }
        return nil
    }

    /// Parses the TOML subset described on the type into `dotted.key → string`.
    public static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        // nil inside a table we don't understand: its keys are skipped.
        var table: [String]? = []
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                // `[[array.of.tables]]` never holds what we read; treat as an unknown table.
                guard !line.hasPrefix("[["), let close = line.lastIndex(of: "]") else { table = nil; continue }
                table = splitKey(String(line[line.index(after: line.startIndex)..<close]))
                continue
            }
            guard let table, let equals = indexOfEqualsOutsideQuotes(line),
                  let key = splitKey(String(line[..<equals])),
                  let value = parseString(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)) else { continue }
            values[(table + key).joined(separator: ".")] = value
        }
        return values
    }

    /// `a.'b.c'."d"` → `["a", "b.c", "d"]`; nil when malformed.
    static func splitKey(_ text: String) -> [String]? {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        var sawQuoted = false
        for ch in text {
            if let open = quote {
                if ch == open { quote = nil } else { current.append(ch) }
            } else if ch == "'" || ch == "\"" {
                quote = ch
                sawQuoted = true
            } else if ch == "." {
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
                sawQuoted = false
            } else {
                current.append(ch)
            }
        }
        guard quote == nil else { return nil }
        let last = sawQuoted ? current : current.trimmingCharacters(in: .whitespaces)
        parts.append(last.trimmingCharacters(in: .whitespaces))
        return parts.contains(where: \.isEmpty) ? nil : parts
    }

    private static func indexOfEqualsOutsideQuotes(_ line: String) -> String.Index? {
        var quote: Character?
        var index = line.startIndex
        while index < line.endIndex {
            let ch = line[index]
            if let open = quote {
                if ch == open { quote = nil }
            } else if ch == "'" || ch == "\"" {
                quote = ch
            } else if ch == "=" {
                return index
            }
            index = line.index(after: index)
        }
        return nil
    }

    /// A basic (`"…"`, with escapes) or literal (`'…'`) string followed by nothing but a comment.
    static func parseString(_ text: String) -> String? {
        guard let open = text.first, open == "\"" || open == "'" else { return nil }
        var result = ""
        var escaped = false
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let ch = text[index]
            index = text.index(after: index)
            if escaped {
                switch ch {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "\\": result.append("\\")
                case "\"": result.append("\"")
                default: return nil // \u escapes and friends: not worth guessing
                }
                escaped = false
            } else if open == "\"" && ch == "\\" {
                escaped = true
            } else if ch == open {
                let rest = text[index...].trimmingCharacters(in: .whitespaces)
                return rest.isEmpty || rest.hasPrefix("#") ? result : nil
            } else {
                result.append(ch)
            }
        }
        return nil
    }
}
