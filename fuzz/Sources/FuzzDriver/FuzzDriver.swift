#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// libFuzzer's own driver, in every `-sanitize=fuzzer` binary. Called from the target's top-level
// code because SwiftPM links an executable target with its own `main` (`--defsym
// main=<module>_main`), which would otherwise win over libFuzzer's.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The one input handler of this process: set once by ``runFuzzer(_:)`` before the driver starts,
/// read only by libFuzzer's (single) fuzzing thread.
nonisolated(unsafe) private var handler: ((UnsafeRawBufferPointer) -> Void)?

/// libFuzzer's `main` (pulled in whole by `-sanitize=fuzzer`) names this symbol, so it must exist
/// even though the driver is handed the callback directly.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    handler?(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

/// Runs libFuzzer with the process's arguments (`-max_total_time=N`, corpus directories, …),
/// calling `body` with every input; a crash (trap, fatal error) in `body` is a finding.
public func runFuzzer(_ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
    handler = body
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput))
}

/// Stops the process as a finding when `condition` is false: a property of a successful parse
/// (a round trip, a 4xx for bad input) that did not hold.
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        fuzzLog("fuzz check failed: \(message())")
        abort()
    }
}

/// Writes one line to standard error (unbuffered, so it precedes libFuzzer's crash report).
public func fuzzLog(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
