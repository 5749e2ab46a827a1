import Foundation
import Hotpatch
import ObjectFile
import Testing

/// Runs tools the tests compare against, and makes scratch directories (HotpatchTests copy).
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

/// One line of `llvm-nm -P -S` output.
struct NmLine: Hashable {
    var name: String
    var type: Character
    var value: UInt64
    var size: UInt64

    var isDefined: Bool { !"Uwv".contains(type) }
}

enum LLVMNm {
    /// `llvm-nm -P -S path` (`-D` and `@VERSION` stripped when `dynamic`).
    static func symbols(_ path: String, dynamic: Bool = false) throws -> [NmLine] {
        let output = try Tools.runChecked(Tools.llvmNm, ["-P", "-S"] + (dynamic ? ["-D"] : []) + [path])
        var result: [NmLine] = []
        for line in output.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 2 else { continue }
            var name = fields[0]
            if dynamic, let at = name.firstIndex(of: "@"), at != name.startIndex { name = String(name[..<at]) }
            let value = fields.count >= 3 ? UInt64(fields[2], radix: 16) ?? 0 : 0
            let size = fields.count >= 4 ? UInt64(fields[3], radix: 16) ?? 0 : 0
            result.append(NmLine(name: name, type: fields[1].first ?? "?", value: value, size: size))
        }
        return result
    }
}

/// A symbol as llvm-nm shows it, for set comparison.
struct SymbolKey: Hashable, CustomStringConvertible {
    var name: String
    var address: UInt64
    var size: UInt64
    var defined: Bool

    var description: String { "\(name) \(defined ? "def" : "undef") 0x\(String(address, radix: 16)) \(size)" }
}

/// Compares a table with llvm-nm, returning a few differences as text (empty when equal) and how
/// many symbols llvm-nm listed. llvm-nm hides ELF section and file symbols unless `-a`; it prints
/// Mach-O sizes as 0.
func differencesFromLLVMNm(_ table: SymbolTable, path: String) throws -> (differences: [String], compared: Int) {
    let nm = try LLVMNm.symbols(path, dynamic: table.fromDynamicSymbols)
    let theirs = nm.map { SymbolKey(name: $0.name, address: $0.value, size: $0.size, defined: $0.isDefined) }
    var ours: [SymbolKey] = []
    ours.reserveCapacity(table.count)
    let machO = table.format == .machO
    for index in table.indices {
        let kind = table.kind(at: index)
        if kind == .section || kind == .file { continue }
        ours.append(SymbolKey(
            name: table.name(at: index), address: table.address(at: index),
            size: machO ? 0 : table.size(at: index), defined: table.isDefined(at: index)))
    }
    var counts: [SymbolKey: Int] = [:]
    for key in ours { counts[key, default: 0] += 1 }
    for key in theirs { counts[key, default: 0] -= 1 }
    let differences = counts.filter { $0.value != 0 }.prefix(20)
        .map { "\($0.value > 0 ? "only ours" : "only llvm-nm") ×\(abs($0.value)): \($0.key)" }
    return (Array(differences), theirs.count)
}

/// Builds small std-only Rust programs with rustc.
enum RustProgram {
    static var rustc: String? { Tools.which("rustc") }

    /// Compiles `source` to an executable named `name` in `directory`.
    static func build(_ source: String, name: String, in directory: URL, flags: [String] = []) throws -> String {
        let rustc = try #require(Self.rustc, "rustc is not installed (~/.cargo/bin)")
        let file = directory.appendingPathComponent("\(name).rs")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let output = directory.appendingPathComponent(name).path
        _ = try Tools.runChecked(rustc, ["--edition", "2021", "-C", "debuginfo=0"] + flags + [file.path, "-o", output])
        return output
    }

    /// rustc's own `librustc_driver-*.so` (165k symbols), if the toolchain has one.
    static func rustcDriver() throws -> String? {
        guard let rustc else { return nil }
        let sysroot = try Tools.runChecked(rustc, ["--print", "sysroot"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let lib = "\(sysroot)/lib"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        return names.first { $0.hasPrefix("librustc_driver-") && $0.hasSuffix(".so") }.map { "\(lib)/\($0)" }
    }
}

/// A std-only program with a thread-local, statics and a few functions.
let counterLikeRustSource = """
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering};

    static TICKS: AtomicU64 = AtomicU64::new(0);
    thread_local! { static LOCAL: Cell<u64> = Cell::new(1); }

    #[inline(never)]
    fn step(value: u64) -> u64 { value.wrapping_mul(3) + TICKS.fetch_add(1, Ordering::Relaxed) }

    fn main() {
        let mut total = 0;
        for i in 0..3 { total += step(i); LOCAL.with(|l| l.set(l.get() + total)); }
        println!("{} {}", total, LOCAL.with(|l| l.get()));
        if std::env::args().any(|a| a == "--backtrace") {
            println!("{}", std::backtrace::Backtrace::force_capture());
        }
    }
    """
