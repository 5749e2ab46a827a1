import Foundation

/// Expands `@file` arguments the way the tool that receives them would, so a capture holds the
/// real argument list. cargo passes rustc an argfile with one argument per line; rustc passes the
/// linker a GCC-style response file (whitespace-separated, with `\`, `'` and `"` quoting, nestable).
public enum ResponseFile {
    /// How deep nested response files may go before we call it a loop.
    static let maximumDepth = 16

    /// rustc's rule: `@path` is replaced by the file's lines, one argument per line, not nested.
    public static func expandRustcArguments(_ arguments: [String], workingDirectory: URL) throws -> [String] {
        var result: [String] = []
        result.reserveCapacity(arguments.count)
        for argument in arguments {
            guard argument.hasPrefix("@"), argument.count > 1 else {
                result.append(argument)
                continue
            }
            let text = try readText(String(argument.dropFirst()), relativeTo: workingDirectory)
            // Swift treats "\r\n" as one Character, so both line ends are listed.
            var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
                .map(String.init)
            // A trailing newline ends the last line; it doesn't add an empty argument.
            if lines.last == "" { lines.removeLast() }
            result.append(contentsOf: lines)
        }
        return result
    }

    /// GCC/libiberty's rule: `@path` is replaced by the whitespace-separated words of the file,
    /// recursively; an `@path` that can't be read stays as it is (the linker will treat it the same).
    public static func expandLinkerArguments(_ arguments: [String], workingDirectory: URL) throws -> [String] {
        try expandLinker(arguments, workingDirectory: workingDirectory, depth: 0)
    }

    private static func expandLinker(_ arguments: [String], workingDirectory: URL, depth: Int) throws -> [String] {
        var result: [String] = []
        for argument in arguments {
            guard argument.hasPrefix("@"), argument.count > 1,
                  let text = try? readText(String(argument.dropFirst()), relativeTo: workingDirectory) else {
                result.append(argument)
                continue
            }
            guard depth < maximumDepth else { throw ResponseFileError.tooDeep(path: String(argument.dropFirst())) }
            let words = splitGCCResponseFile(text)
            result.append(contentsOf: try expandLinker(words, workingDirectory: workingDirectory, depth: depth + 1))
        }
        return result
    }

    /// Splits a GCC-style response file into words: whitespace separates; `\` escapes any character;
    /// `'…'` and `"…"` group (with `\` still escaping inside, as libiberty's `buildargv` does).
    public static func splitGCCResponseFile(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for ch in text {
            if escaped {
                current.append(ch)
                escaped = false
                inWord = true
                continue
            }
            if ch == "\\" {
                escaped = true
                inWord = true
                continue
            }
            if let open = quote {
                if ch == open { quote = nil } else { current.append(ch) }
                continue
            }
            if ch == "'" || ch == "\"" {
                quote = ch
                inWord = true
                continue
            }
            if ch.isWhitespace {
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
                continue
            }
            current.append(ch)
            inWord = true
        }
        if inWord { words.append(current) }
        return words
    }

    private static func readText(_ path: String, relativeTo directory: URL) throws -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : directory.appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ResponseFileError.unreadable(path: url.path)
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// An `@file` argument could not be expanded.
public enum ResponseFileError: HotpatchError {
    case unreadable(path: String)
    case tooDeep(path: String)

    public var code: String {
        switch self {
        case .unreadable: "response_file_unreadable"
        case .tooDeep: "response_file_too_deep"
        }
    }

    public var message: String {
        switch self {
        case let .unreadable(path): "cannot read argument file \(path)"
        case let .tooDeep(path): "argument file \(path) nests more than \(ResponseFile.maximumDepth) levels of @files (a loop?)"
        }
    }

    public var hint: String? { nil }
}
