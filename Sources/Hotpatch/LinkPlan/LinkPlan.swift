/// How to link one patch library: the program, its arguments, the output and the environment.
///
/// A plan is a value: it is built from the captured link of the fat build (so the same toolchain
/// is used), shown in the PatchPlan, compared in tests, and only then run (``run()``).
public struct LinkPlan: Sendable, Hashable, Codable {
    /// The C compiler driver that links (the captured linker: `cc`, a clang, the NDK's clang).
    public var linker: String
    public var arguments: [String]
    /// The library the link writes; a fresh path per patch (dlopen caches by path).
    public var outputPath: String
    /// Variables set on top of this process's environment for the link.
    public var environment: [String: String]
    /// Where relative paths in `arguments` are resolved (the captured link's directory); nil
    /// runs in this process's current directory.
    public var workingDirectory: String?
    public var os: LinkerOS

    public init(
        linker: String, arguments: [String], outputPath: String, environment: [String: String] = [:],
        workingDirectory: String? = nil, os: LinkerOS
    ) {
        self.linker = linker
        self.arguments = arguments
        self.outputPath = outputPath
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.os = os
    }

    /// The command line, shell-quoted where needed, for logs, errors and the PatchPlan.
    public var commandLine: String {
        ([linker] + arguments).map(Self.shellQuote).joined(separator: " ")
    }

    static func shellQuote(_ word: String) -> String {
        let safe = word.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "-_./=:,+@%".utf8.contains(byte)
            }
        }
        if safe && !word.isEmpty { return word }
        return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
