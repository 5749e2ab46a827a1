/// A rustc argument list split into options and positionals, keeping each option's original
/// spelling so a rewritten command line differs from cargo's only where we change it.
public struct RustcCommandLine: Sendable, Equatable {
    /// One option (`--emit=obj`, `-C metadata=…`, `-Cfoo`) or positional (the crate root file).
    public struct Argument: Sendable, Equatable {
        /// Canonical name: `--crate-type`, `-C` (also for `--codegen`), `-L`, `--test`…; empty for a positional.
        public var name: String
        /// The option's value (`obj` for `--emit=obj`, `metadata=ab12` for `-C metadata=ab12`), or the positional itself.
        public var value: String?
        /// The tokens exactly as they appeared.
        public var spelling: [String]

        public var isPositional: Bool { name.isEmpty }

        /// For `-C key=value`: the key (`metadata`), else nil.
        public var codegenKey: String? {
            guard name == "-C", let value else { return nil }
            return String(value.split(separator: "=", maxSplits: 1).first ?? "")
        }

        /// For `-C key=value`: the value after `=` (empty when there is none), else nil.
        public var codegenValue: String? {
            guard name == "-C", let value else { return nil }
            let parts = value.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 ? String(parts[1]) : ""
        }
    }

    public var arguments: [Argument]

    /// Long options whose value may be the next token.
    static let longOptionsWithValue: Set<String> = [
        "--crate-name", "--crate-type", "--edition", "--emit", "--print", "--out-dir", "--explain",
        "--target", "--cfg", "--check-cfg", "--cap-lints", "--extern", "--sysroot", "--error-format",
        "--json", "--color", "--codegen", "--remap-path-prefix", "--diagnostic-width", "--env-set",
        "--warn", "--allow", "--deny", "--forbid", "--force-warn", "--crate-attr", "--extern-location",
        "--remap-path-scope", "--unpretty", "--pretty", "--print-type-sizes", "--out-file",
    ]

    /// Short options that take a value, attached (`-Cfoo`) or as the next token (`-C foo`).
    static let shortOptionsWithValue: Set<Character> = ["C", "Z", "L", "l", "W", "A", "D", "F", "o"]

    public init(_ tokens: [String]) {
        var result: [Argument] = []
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            if token.hasPrefix("--"), token.count > 2 {
                if let equals = token.firstIndex(of: "=") {
                    let name = String(token[..<equals])
                    result.append(Argument(name: Self.canonical(name), value: String(token[token.index(after: equals)...]), spelling: [token]))
                } else if Self.longOptionsWithValue.contains(token), index < tokens.count {
                    result.append(Argument(name: Self.canonical(token), value: tokens[index], spelling: [token, tokens[index]]))
                    index += 1
                } else {
                    result.append(Argument(name: token, value: nil, spelling: [token]))
                }
            } else if token.hasPrefix("-"), token.count >= 2 {
                let letter = token[token.index(after: token.startIndex)]
                let name = "-" + String(letter)
                if Self.shortOptionsWithValue.contains(letter) {
                    if token.count > 2 {
                        result.append(Argument(name: name, value: String(token.dropFirst(2)), spelling: [token]))
                    } else if index < tokens.count {
                        result.append(Argument(name: name, value: tokens[index], spelling: [token, tokens[index]]))
                        index += 1
                    } else {
                        result.append(Argument(name: name, value: nil, spelling: [token]))
                    }
                } else {
                    result.append(Argument(name: token, value: nil, spelling: [token]))
                }
            } else {
                // `-` alone (read stdin) is positional too.
                result.append(Argument(name: "", value: token, spelling: [token]))
            }
        }
        arguments = result
    }

    private static func canonical(_ name: String) -> String {
        name == "--codegen" ? "-C" : name
    }

    /// The tokens, for running the command.
    public var tokens: [String] { arguments.flatMap(\.spelling) }

    /// The last value of option `name` (rustc lets later options win).
    public func value(of name: String) -> String? {
        arguments.last(where: { $0.name == name })?.value
    }

    public func values(of name: String) -> [String] {
        arguments.filter { $0.name == name }.compactMap(\.value)
    }

    public func contains(_ name: String) -> Bool {
        arguments.contains { $0.name == name }
    }

    /// The value of the last `-C key=…`.
    public func codegen(_ key: String) -> String? {
        arguments.last(where: { $0.codegenKey == key })?.codegenValue
    }

    public var positionals: [String] {
        arguments.filter(\.isPositional).compactMap(\.value)
    }

    /// Whether rustc links a tool cargo runs on the host — a build script or a proc macro — rather
    /// than something the app is made of: nothing ever patches those, so their links need none of
    /// the fat build's whole-archive, `--export-dynamic` or no-gc-sections cost.
    public var linksHostTool: Bool {
        crateTypes.contains("proc-macro") || values(of: "--crate-name").last == "build_script_build"
    }

    /// Every `--crate-type`, with comma lists split (`--crate-type=lib,cdylib`).
    public var crateTypes: [String] {
        values(of: "--crate-type").flatMap { $0.split(separator: ",").map(String.init) }
    }
}
