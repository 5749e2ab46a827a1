/// A make-syntax dependency file as rustc writes it with `--emit=dep-info`:
/// `target…: prerequisite…` rules, spaces in paths escaped as `\ `, `\`-newline continuations,
/// and `# env-dep:NAME=value` comments for the environment variables the crate read.
public struct DepInfo: Sendable, Equatable {
    /// One `target…: prerequisite…` line (continuations joined, escapes undone).
    public struct Rule: Sendable, Equatable {
        public var targets: [String]
        public var prerequisites: [String]
    }

    public var rules: [Rule]
    /// `# env-dep:NAME=value` (value nil for `# env-dep:NAME`, a variable that was unset).
    public var environmentDependencies: [String: String?]

    /// Every prerequisite of every rule, first occurrence order, no duplicates: the source files
    /// the crate was compiled from.
    public var files: [String] {
        var seen: Set<String> = []
        var result: [String] = []
        for rule in rules {
            for file in rule.prerequisites where seen.insert(file).inserted { result.append(file) }
        }
        return result
    }

    public init(parsing text: String) {
        rules = []
        environmentDependencies = [:]
        for line in Self.logicalLines(text) {
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("#") {
                if trimmed.hasPrefix("# env-dep:") {
                    let entry = trimmed.dropFirst("# env-dep:".count)
                    if let equals = entry.firstIndex(of: "=") {
                        environmentDependencies[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
                    } else {
                        environmentDependencies[String(entry)] = .some(nil)
                    }
                }
                continue
            }
            guard let colon = Self.ruleSeparator(in: trimmed) else { continue }
            let targets = Self.words(trimmed[..<colon])
            let prerequisites = Self.words(trimmed[trimmed.index(after: colon)...])
            rules.append(Rule(targets: targets, prerequisites: prerequisites))
        }
    }

    /// Joins `\`-newline continuations; a line ending in an even number of `\` is not continued.
    static func logicalLines(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        for physical in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let trailing = physical.reversed().prefix(while: { $0 == "\\" }).count
            if trailing % 2 == 1 {
                current += physical.dropLast() + " "
            } else {
                current += physical
                result.append(current)
                current = ""
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// The `:` that ends the targets: the first one followed by whitespace or the end of the line,
    /// not escaped (so `C:\path` on Windows and `a\:b` stay inside a word).
    static func ruleSeparator(in line: Substring) -> Substring.Index? {
        var index = line.startIndex
        var escaped = false
        while index < line.endIndex {
            let ch = line[index]
            let next = line.index(after: index)
            if escaped {
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == ":" && (next == line.endIndex || line[next] == " " || line[next] == "\t") {
                return index
            }
            index = next
        }
        return nil
    }

    /// Splits on unescaped blanks and undoes make's escapes: `\ ` → space, `\#` → `#`, `\:` → `:`,
    /// `$$` → `$`. Any other backslash is a literal character of the path.
    static func words(_ text: Substring) -> [String] {
        var words: [String] = []
        var current = ""
        var index = text.startIndex
        while index < text.endIndex {
            let ch = text[index]
            let next = text.index(after: index)
            if ch == "\\", next < text.endIndex, " \t#:".contains(text[next]) {
                current.append(text[next])
                index = text.index(after: next)
                continue
            }
            if ch == "$", next < text.endIndex, text[next] == "$" {
                current.append("$")
                index = text.index(after: next)
                continue
            }
            if ch == " " || ch == "\t" {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(ch)
            }
            index = next
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
