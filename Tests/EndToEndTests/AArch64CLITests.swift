import Foundation
import Hotpatch
import Testing

/// Issue 12 from the CLI: a second toolchain per project. The counter is fat-built for
/// aarch64 Linux with Debian's cargo 1.65 + rustc 1.63 (`--target --cargo --rustc`), runs under
/// user-mode QEMU, and `whisker-dev patch --target` patches that live process twice; a patch
/// asked for another target than the build's is refused; `doctor` checks the cross toolchain.
/// (The LAN path — serve, a network namespace, the token — is scripts/device-lan.py.)
@Suite(.serialized, .enabled(if: AArch64Device.isAvailable, "needs qemu-aarch64, aarch64-linux-gnu-gcc and Debian's rustc with libstd-rust-dev:arm64 (scripts/setup.sh)"))
struct AArch64CLITests {
    @Test func crossBuiltCounterUnderQEMUIsPatchedTwiceLive() throws {
        let workspace = try CounterWorkspace()
        let built = try workspace.whiskerDev(["build", "--project", workspace.project.path, "--json"] + AArch64Device.toolchainArguments)
        try #require(built.succeeded, "cross fat build failed: \(built.stderrText)")
        let object = try JSONSerialization.jsonObject(with: built.stdout) as? [String: Any]
        let binary = try #require(object?["binary"] as? String)
        #expect(try AArch64Device.machine(ofELFAt: binary) == 183, "an aarch64 executable (EM_AARCH64)")

        let app = try AArch64Device.launch(binary)
        defer { app.terminate() }
        let referenceLine = try #require(app.waitForLine(timeout: 60) { $0.hasPrefix("whisker: aslr_reference=") }, "\(app.output)")
        let reference = String(referenceLine.dropFirst("whisker: aslr_reference=".count))
        #expect(app.waitForLine(timeout: 60) { $0.hasSuffix(": hello from counter") } != nil)
        let pid = app.pid

        var previous = "hello from counter"
        var lastTick = 0
        for round in 1...2 {
            let text = "aarch64 patch \(round)"
            try workspace.setMessage(from: previous, to: text)
            let table = workspace.root.appendingPathComponent("table-\(round).json").path
            let mark = app.output.count
            let result = try workspace.patch(reference: reference, table: table, ["--target", AArch64Device.triple])
            try #require(result.succeeded, "patch \(round): \(result.stderrText)")
            app.send(table)
            let applied = app.waitForLine(after: mark, timeout: 60) { $0.hasPrefix("whisker: applied patch") || $0.hasPrefix("whisker: patch failed") }
            #expect(applied?.hasPrefix("whisker: applied patch") == true, "round \(round): \(applied ?? "no answer")")
            let line = try #require(app.waitForLine(after: mark, timeout: 60) { $0.hasSuffix(": \(text)") }, "round \(round): \(app.output.suffix(5))")
            let tick = try #require(tickNumber(line))
            #expect(tick > lastTick, "the counter continues")
            lastTick = tick
            #expect(app.isRunning && app.pid == pid, "the same process")
            previous = text
        }

        // The build is aarch64's: a patch for the host is refused, with the way out.
        let wrong = try workspace.patch(
            reference: reference, table: workspace.root.appendingPathComponent("wrong.json").path, ["--target", "x86_64-unknown-linux-gnu"])
        #expect(!wrong.succeeded)
        #expect(wrong.stderrText.contains("is for \(AArch64Device.triple), not x86_64-unknown-linux-gnu"), "\(wrong.stderrText)")
        #expect(wrong.stderrText.contains("--target x86_64-unknown-linux-gnu"), "the hint names the build to run")
    }

    @Test func doctorChecksTheCrossToolchainAndSaysWhatIsMissing() throws {
        let workspace = try CounterWorkspace()
        let good = try workspace.whiskerDev(["doctor", "--project", workspace.project.path, "--json"] + AArch64Device.toolchainArguments)
        #expect(good.succeeded, "\(good.stdoutText) \(good.stderrText)")
        let checks = try #require(try JSONSerialization.jsonObject(with: good.stdout) as? [[String: Any]])
        let byName = Dictionary(checks.compactMap { check in (check["name"] as? String).map { ($0, check) } }, uniquingKeysWith: { a, _ in a })
        #expect(byName["target \(AArch64Device.triple)"]?["passed"] as? Bool == true, "\(byName.keys.sorted())")
        #expect((byName["linker for \(AArch64Device.triple)"]?["detail"] as? String)?.contains("aarch64-linux-gnu-gcc") == true,
                "\(String(describing: byName["linker for \(AArch64Device.triple)"]))")
        #expect((byName["rustc"]?["detail"] as? String)?.contains("1.63") == true, "--rustc is the rustc checked")

        // Without the project's cross linker, cargo would link aarch64 objects with the host's cc.
        try FileManager.default.removeItem(at: workspace.project.appendingPathComponent(".cargo/config.toml"))
        let noLinker = try workspace.whiskerDev(["doctor", "--project", workspace.project.path] + AArch64Device.toolchainArguments)
        #expect(!noLinker.succeeded)
        #expect(noLinker.stdoutText.contains("links for x86_64"), "\(noLinker.stdoutText)")
        #expect(noLinker.stdoutText.contains("[target.\(AArch64Device.triple)] linker"), "the fix names the config key")

        // rustup's rustc has no aarch64 std here: doctor says so and fails.
        let rustup = "\(NSHomeDirectory())/.cargo/bin/rustc"
        guard FileManager.default.isExecutableFile(atPath: rustup) else { return }
        let bad = try workspace.whiskerDev(["doctor", "--project", workspace.project.path, "--target", AArch64Device.triple, "--rustc", rustup])
        #expect(!bad.succeeded)
        #expect(bad.stdoutText.contains("target \(AArch64Device.triple)"), "\(bad.stdoutText)")
    }

    @Test func aCrossBuildWithoutACrossLinkerFailsAtOnceWithTheFix() throws {
        let workspace = try CounterWorkspace()
        try FileManager.default.removeItem(at: workspace.project.appendingPathComponent(".cargo/config.toml"))
        let started = Date()
        let result = try workspace.whiskerDev(["build", "--project", workspace.project.path] + AArch64Device.toolchainArguments)
        #expect(!result.succeeded)
        #expect(result.stderrText.contains("the linker for \(AArch64Device.triple) is cc"), "\(result.stderrText)")
        #expect(result.stderrText.contains("links for x86_64"), "\(result.stderrText)")
        #expect(result.stderrText.contains("[target.\(AArch64Device.triple)] linker"), "the hint says where to name one")
        #expect(Date().timeIntervalSince(started) < 20, "before cargo compiles anything")
    }

    @Test func aMissingToolIsAUsageError() throws {
        let workspace = try CounterWorkspace()
        let result = try workspace.whiskerDev(["build", "--project", workspace.project.path, "--cargo", "/nonexistent/cargo"])
        #expect(!result.succeeded)
        #expect(result.stderrText.contains("--cargo '/nonexistent/cargo' is not an executable file"), "\(result.stderrText)")
    }
}

/// The aarch64 "phone" this machine can run: Debian's cross toolchain and user-mode QEMU.
enum AArch64Device {
    static let triple = "aarch64-unknown-linux-gnu"
    static let crossRoot = "/usr/aarch64-linux-gnu"
    static let toolchainArguments = ["--target", triple, "--cargo", "/usr/bin/cargo", "--rustc", "/usr/bin/rustc"]

    static let qemu: String? = executable(named: "qemu-aarch64")

    static let isAvailable: Bool = {
        guard qemu != nil, executable(named: "aarch64-linux-gnu-gcc") != nil,
              FileManager.default.isExecutableFile(atPath: "/usr/bin/cargo") else { return false }
        return FileManager.default.fileExists(atPath: "/usr/lib/rustlib/\(triple)/lib")
    }()

    /// Runs `binary` under QEMU. LD_LIBRARY_PATH keeps the cross libc beside the cross loader
    /// (with `-L` alone the host's newer libc6:arm64 is loaded and thread creation spins).
    static func launch(_ binary: String) throws -> RunningProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["COUNTER_INTERVAL_MS"] = "100"
        return try RunningProcess(
            executable: qemu ?? "qemu-aarch64",
            arguments: ["-L", crossRoot, "-E", "LD_LIBRARY_PATH=\(crossRoot)/lib", binary], environment: environment)
    }

    /// `e_machine` of the ELF file at `path`.
    static func machine(ofELFAt path: String) throws -> UInt16 {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)).prefix(20))
        guard bytes.count == 20, bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]) else { return 0 }
        return UInt16(bytes[18]) | UInt16(bytes[19]) << 8
    }

    private static func executable(named name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
