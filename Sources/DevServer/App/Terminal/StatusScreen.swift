import Hotpatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A terminal showing scrolling lines above a few status lines that stay at the bottom.
///
/// Plain ANSI, no curses: the status lines are the last lines written, with the cursor left at
/// the end of the last one. A new log line erases them (carriage return, erase line, cursor up),
/// is written where they were, and they are written again below it — so the log scrolls in the
/// terminal's own scrollback, as it does without the status, and copying from it still works.
/// Status lines are cut to the terminal's width: a wrapped one would leave a stale row behind on
/// the next erase. Every write is one write(2) under one lock, so lines from the log handler, the
/// session's events and the key thread never interleave.
final class StatusScreen: Sendable {
    private let fileDescriptor: Int32
    private let columns: @Sendable () -> Int?
    private let state = Mutex(State())

    private struct State {
        /// The status lines, unstyled (their style is applied when drawn).
        var lines: [StatusLine] = []
        /// How many status lines are on the screen now.
        var drawn = 0
        var closed = false
    }

    /// `columns` gives the terminal's width at each draw (it may be resized).
    init(fileDescriptor: Int32, columns: @escaping @Sendable () -> Int? = { nil }) {
        self.fileDescriptor = fileDescriptor
        self.columns = columns
    }

    /// Writes `text` (one or more lines) above the status lines.
    func printLine(_ text: String) {
        let body = text.hasSuffix("\n") ? String(text.dropLast()) : text
        state.withLock { state in
            var out = erase(&state)
            out += body + "\n"
            if !state.closed { out += draw(&state) }
            emit(out)
        }
    }

    /// Replaces the status lines; redraws only when they changed.
    func setStatus(_ lines: [StatusLine]) {
        state.withLock { state in
            guard !state.closed, lines != state.lines || state.drawn != lines.count else { return }
            state.lines = lines
            var out = erase(&state)
            out += draw(&state)
            emit(out)
        }
    }

    /// Erases the status lines for good; later lines are written plainly.
    func close() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            emit(erase(&state))
        }
    }

    private func erase(_ state: inout State) -> String {
        guard state.drawn > 0 else { return "" }
        var out = "\r\u{1B}[2K"
        for _ in 1..<state.drawn { out += "\u{1B}[1A\u{1B}[2K" }
        state.drawn = 0
        return out
    }

    private func draw(_ state: inout State) -> String {
        // One column short of the width: writing the last column leaves some terminals in a
        // pending wrap that the next erase would miscount.
        let width = max(20, (columns() ?? 80) - 1)
        state.drawn = state.lines.count
        return state.lines.map { $0.rendered(width: width) }.joined(separator: "\n")
    }

    private func emit(_ text: String) {
        guard !text.isEmpty else { return }
        // A failed write (the terminal went away) loses the status, nothing else: ignored.
        _ = Array(text.utf8).withUnsafeBytes { writeAll(fileDescriptor, $0) }
    }
}

/// One status line: its text and how it is shown.
struct StatusLine: Sendable, Equatable {
    enum Style: Sendable, Equatable {
        case plain, dim
        /// Reverse video across the whole width: the bar that separates the log from the status.
        case bar
    }

    var text: String
    var style: Style = .plain

    /// The line cut (or, for a bar, padded) to `width` columns, with its ANSI style.
    func rendered(width: Int) -> String {
        var visible = text.count > width ? String(text.prefix(width - 1)) + "…" : text
        switch style {
        case .plain: return visible
        case .dim: return "\u{1B}[2m" + visible + "\u{1B}[0m"
        case .bar:
            visible += String(repeating: " ", count: max(0, width - visible.count))
            return "\u{1B}[7m" + visible + "\u{1B}[0m"
        }
    }
}
