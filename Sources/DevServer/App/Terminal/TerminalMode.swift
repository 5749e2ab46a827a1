import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A terminal switched to cbreak mode for single-key input, and the way back.
///
/// Cbreak, not raw: each key arrives as soon as it is pressed and is not echoed, but the terminal
/// still turns Ctrl-C into SIGINT (so the signal path that shuts the server down stays the one
/// way out) and still turns `\n` into CR LF on output (so log lines written by other code keep
/// starting at the left margin).
///
/// The settings found at ``enable(_:)`` are put back by ``restore()``, which every exit path of
/// `serve` calls (normal return, a thrown error, SIGINT/SIGTERM, `q`); an `atexit` hook does it too
/// for a path that calls `exit` directly, so a shell is never left without echo.
final class TerminalMode: Sendable {
    let fileDescriptor: Int32
    /// The settings before ``enable(_:)``; nil once restored.
    private let saved: Mutex<termios?>

    private init(fileDescriptor: Int32, saved: termios) {
        self.fileDescriptor = fileDescriptor
        self.saved = Mutex(saved)
    }

    /// Whether `fileDescriptor` is a terminal this process may change: `isatty`, and this process
    /// in its foreground group (a background job that changed its terminal would be stopped by
    /// SIGTTOU, and the keys belong to the foreground job anyway).
    static func isInteractive(_ fileDescriptor: Int32) -> Bool {
        guard isatty(fileDescriptor) == 1 else { return false }
        return tcgetpgrp(fileDescriptor) == getpgrp()
    }

    /// Switches `fileDescriptor` to cbreak mode; nil when it is not a terminal or refuses.
    static func enable(_ fileDescriptor: Int32) -> TerminalMode? {
        var original = termios()
        guard tcgetattr(fileDescriptor, &original) == 0 else { return nil }
        var changed = original
        changed.c_lflag &= ~tcflag_t(ICANON | ECHO)
        // One byte is enough for read(2) to return, with no timer: the key reader polls.
        withUnsafeMutableBytes(of: &changed.c_cc) { bytes in
            bytes[Int(VMIN)] = 1
            bytes[Int(VTIME)] = 0
        }
        guard tcsetattr(fileDescriptor, TCSANOW, &changed) == 0 else { return nil }
        let mode = TerminalMode(fileDescriptor: fileDescriptor, saved: original)
        ExitRestore.register(mode)
        return mode
    }

    /// Puts the terminal back as ``enable(_:)`` found it. Idempotent, and safe from any thread.
    func restore() {
        guard var original = saved.withLock({ saved -> termios? in
            defer { saved = nil }
            return saved
        }) else { return }
        // TCSANOW: nothing typed is thrown away (TCSAFLUSH would drop keys pressed meanwhile).
        _ = tcsetattr(fileDescriptor, TCSANOW, &original)
    }
}

/// The `atexit` safety net: every mode not restored yet is restored when the process exits
/// through `exit` (ArgumentParser's error exit, for one) rather than through `serve`'s own return.
private enum ExitRestore {
    static let modes = Mutex<[TerminalMode]>([])
    static let installed = Atomic(false)

    static func register(_ mode: TerminalMode) {
        modes.withLock { $0.append(mode) }
        if !installed.exchange(true, ordering: .acquiringAndReleasing) {
            atexit { ExitRestore.restoreAll() }
        }
    }

    static func restoreAll() {
        for mode in modes.withLock({ $0 }) { mode.restore() }
    }
}

/// The width of the terminal on `fileDescriptor`, in columns (nil when it does not say).
func terminalColumns(_ fileDescriptor: Int32) -> Int? {
    var size = winsize()
    guard ioctl(fileDescriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
    return Int(size.ws_col)
}
