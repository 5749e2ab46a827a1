import Foundation
import Hotpatch

/// Test-only helpers for the stub, link, jump-table and diff suites: run the real tools
/// (clang, readelf, llvm-nm, llvm-objdump) and read their answers.
enum LinkTestTools {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The Swift toolchain's clang (targets every architecture; lld sits next to it).
    static var clang: String {
        let bundled = "/opt/swift/usr/bin/clang"
        return FileManager.default.isExecutableFile(atPath: bundled) ? bundled : (which("clang") ?? "clang")
    }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/bin", "/opt/swift/usr/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `tool` (a path or a name on PATH) with output captured through files, so no pipe can fill up.
    /// rustc on PATH, else rustup's default place; nil when neither exists.
    static func rustc() -> String? {
        which("rustc") ?? [NSHomeDirectory() + "/.cargo/bin/rustc"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Builds `source` into `<directory>/app` with rustc (`arguments` first), exporting its symbols
    /// like a fat build, through a linker wrapper that records its arguments; returns them (what a
    /// `LinkPlan` forwards). `linker`: the C driver the wrapper runs (a cross gcc for another target).
    static func buildRecordingLink(
        rustc: String, arguments: [String], source: String, in directory: String, linker: String = "cc"
    ) throws -> [String] {
        try source.write(toFile: "\(directory)/app.rs", atomically: true, encoding: .utf8)
        let capture = "\(directory)/capture-cc.sh"
        try "#!/bin/sh\nprintf '%s\\n' \"$@\" > \(directory)/link-args.txt\nexec \(linker) \"$@\"\n"
            .write(toFile: capture, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: capture)
        try runChecked(
            rustc, arguments + ["-C", "linker=\(capture)", "-C", "link-arg=-Wl,--export-dynamic", "\(directory)/app.rs", "-o", "\(directory)/app"])
        return try String(contentsOfFile: "\(directory)/link-args.txt", encoding: .utf8).split(separator: "\n").map(String.init)
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> Output {
        guard let executable = tool.contains("/") ? tool : which(tool) else { throw Failure(description: "\(tool) not found") }
        let scratch = try makeScratchDirectory("tool")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let out = scratch + "/out", err = scratch + "/err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: err)), as: UTF8.self))
    }

    /// Runs a tool that must succeed.
    @discardableResult
    static func runChecked(_ tool: String, _ arguments: [String]) throws -> Output {
        let output = try run(tool, arguments)
        guard output.status == 0 else {
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")) failed (\(output.status)):\n\(output.stderr)\(output.stdout)")
        }
        return output
    }

    static func makeScratchDirectory(_ prefix: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Compiles C `source` into `directory/name.o` with `flags`.
    @discardableResult
    static func compileC(_ source: String, in directory: String, name: String, flags: [String] = []) throws -> String {
        let input = "\(directory)/\(name).c", output = "\(directory)/\(name).o"
        try source.write(toFile: input, atomically: true, encoding: .utf8)
        try runChecked(clang, ["-c", "-O1", "-fPIC"] + flags + [input, "-o", output])
        return output
    }

    /// The `.symtab` symbols of an ELF file as `readelf -sW` prints them.
    static func readelfSymbols(_ path: String) throws -> [SymbolInfo] {
        let text = try runChecked("readelf", ["-sW", path]).stdout
        var symbols: [SymbolInfo] = []
        var inSymtab = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Symbol table") {
                inSymtab = line.contains("'.symtab'")
                continue
            }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard inSymtab, fields.count >= 7, fields[0].hasSuffix(":"), fields[0] != "Num:" else { continue }
            guard let address = UInt64(fields[1], radix: 16) else { continue }
            let size = fields[2].hasPrefix("0x") ? UInt64(fields[2].dropFirst(2), radix: 16) : UInt64(fields[2])
            let kind: SymbolInfo.Kind =
                switch fields[3] {
                case "FUNC": .function
                case "OBJECT", "COMMON": .data
                case "TLS": .threadLocal
                case "IFUNC": .indirectFunction
                default: .other
                }
            let binding: SymbolInfo.Binding =
                switch fields[4] {
                case "LOCAL": .local
                case "WEAK": .weak
                default: .global
                }
            let name = fields.count > 7 ? fields[7...].joined(separator: " ") : ""
            guard !name.isEmpty else { continue }
            symbols.append(
                SymbolInfo(name: name, address: address, size: size ?? 0, kind: kind, binding: binding, isDefined: fields[6] != "UND"))
        }
        return symbols
    }

    /// `llvm-nm -P` of `path`: name → (type letter, value).
    static func nmSymbols(_ path: String) throws -> [String: (type: String, value: UInt64)] {
        let text = try runChecked("llvm-nm", ["-P", path]).stdout
        var result: [String: (type: String, value: UInt64)] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 2 else { continue }
            result[fields[0]] = (fields[1], fields.count > 2 ? UInt64(fields[2], radix: 16) ?? 0 : 0)
        }
        return result
    }
}
