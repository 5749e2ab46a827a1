import Foundation

/// The fat build's link with every Rust library (`.rlib`) linked whole: an edit may start calling
/// std or dependency code the app never used (a first `HashSet`, a dependency's unused function),
/// and a patch library can't carry its own copy of those crates — it must find them in the running
/// executable. rustc links rlibs as archives, so unused members (std is one big member, its
/// dependencies like hashbrown others) would never reach the executable.
///
/// If that link fails (a crate bundling C code that only links in part, a duplicate symbol), the
/// shim links exactly as rustc asked and says what it gave up.
enum WholeArchiveLink {
    /// `arguments` with `-Wl,--whole-archive` before the first `.rlib` and
    /// `-Wl,--no-whole-archive` after the last; nil when there is none.
    static func wrappingRustLibraries(_ arguments: [String]) -> [String]? {
        guard let first = arguments.firstIndex(where: { $0.hasSuffix(".rlib") }),
              let last = arguments.lastIndex(where: { $0.hasSuffix(".rlib") })
        else { return nil }
        var wrapped = arguments
        wrapped.insert("-Wl,--no-whole-archive", at: last + 1)
        wrapped.insert("-Wl,--whole-archive", at: first)
        return wrapped
    }

    /// A response file holding `arguments` in GCC's `@file` syntax (every character that isn't
    /// plainly safe backslash-escaped), so a long command line stays within the OS limit.
    static func responseFile(_ arguments: [String], in directory: URL) throws -> URL {
        let text = arguments.map { argument in
            argument.unicodeScalars.map { scalar -> String in
                let safe = CharacterSet.alphanumerics.contains(scalar) || "-_./=,:+@%".unicodeScalars.contains(scalar)
                return safe ? String(scalar) : "\\" + String(scalar)
            }.joined()
        }.joined(separator: "\n")
        let file = directory.appendingPathComponent("whisker-link-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).rsp")
        try Data(text.utf8).write(to: file, options: .atomic)
        return file
    }

    /// Runs `linker` with `arguments` as a child, its stdout passed through and its stderr kept;
    /// the exit status (-1 when it couldn't start).
    static func run(_ linker: String, _ arguments: [String]) -> (status: Int32, stderr: Data) {
        let process = Process()
        process.executableURL = linker.contains("/") ? URL(fileURLWithPath: linker) : URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = linker.contains("/") ? arguments : [linker] + arguments
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.runUnblockingSignals()
        } catch {
            return (-1, Data("\(error)".utf8))
        }
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }
}
