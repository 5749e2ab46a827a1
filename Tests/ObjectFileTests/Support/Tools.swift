import Foundation
import Testing

/// Runs tools the tests compare against, and makes scratch directories.
enum Tools {
    /// The result of a finished process.
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutBytes: Data
    }

    /// `clang` that can target every architecture (the Swift toolchain's).
    static var clang: String {
        let bundled = "/opt/swift/usr/bin/clang"
        return FileManager.default.isExecutableFile(atPath: bundled) ? bundled : (which("clang") ?? "clang")
    }

    /// `llvm-nm`, preferring the one on PATH.
    static var llvmNm: String {
        which("llvm-nm") ?? "/opt/swift/usr/bin/llvm-nm"
    }

    /// The first executable named `name` on PATH (plus `~/.cargo/bin`).
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        for directory in path.split(separator: ":").map(String.init) + ["\(home)/.cargo/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` with `arguments`, capturing output through files (no pipe deadlocks).
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Output {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tools-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("out")
        let err = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        let stdoutData = try Data(contentsOf: out)
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self),
            stdoutBytes: stdoutData)
    }

    /// Runs a tool that must succeed; records its stderr in the failure otherwise.
    static func runChecked(_ executable: String, _ arguments: [String]) throws -> Output {
        let output = try run(executable, arguments)
        guard output.status == 0 else {
            throw ToolFailure(description: "\(executable) \(arguments.joined(separator: " ")) failed (\(output.status)): \(output.stderr)")
        }
        return output
    }

    struct ToolFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Compiles C `source` to an object for `flags` (e.g. `--target=…`, `-m32`) in `directory`.
    static func compileC(_ source: String, flags: [String], in directory: URL, name: String) throws -> String {
        let input = directory.appendingPathComponent("\(name).c")
        let output = directory.appendingPathComponent("\(name).o")
        try source.write(to: input, atomically: true, encoding: .utf8)
        _ = try runChecked(clang, ["-c", "-O1", "-fcommon"] + flags + [input.path, "-o", output.path])
        return output.path
    }

    /// A fresh scratch directory, removed by `cleanup()`.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// C source with every symbol flavour the readers classify: globals, a local, a common block, a
/// thread-local, a weak definition, undefined functions and data, a hidden function.
let sampleCSource = """
    int common_var;
    static int local_var = 3;
    __thread int tls_var = 5;
    extern int ext_var;
    const char message[] = "hello";
    int func(int x) { return x + local_var + ext_var + tls_var + message[x]; }
    __attribute__((weak)) int weak_func(void) { return 1; }
    __attribute__((visibility("hidden"))) int hidden_func(int y) { return y * 3; }
    extern void undef_func(void);
    void caller(void) { undef_func(); common_var++; local_var++; }
    static int helper(int z) { return z ^ 0x55; }
    int (*table[])(int) = { func, helper, hidden_func };
    """
