//! The platform-independent half of log forwarding: cutting a byte stream into lines
//! ([`LineSplitter`]) and holding them, bounded, until the sender takes them ([`LogQueue`]).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Which of the app's streams a line came from (the server's `stream` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One forwarded line: its stream, when it was read (wall clock, ms since the Unix epoch) and its
/// text without the line break.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LogLine {
    pub(crate) stream: Stream,
    pub(crate) time_ms: f64,
    pub(crate) text: String,
}

/// Cuts bytes into lines at `\n` (a `\r` before it is dropped). A line longer than `max_len` bytes
/// is cut there (before a character it would split), so one endless line cannot grow the buffer;
/// invalid UTF-8 becomes U+FFFD.
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
    max_len: usize,
}

impl LineSplitter {
    pub(crate) fn new(max_len: usize) -> LineSplitter {
        LineSplitter { partial: Vec::new(), max_len: max_len.max(1) }
    }

    /// The complete lines `bytes` finishes, oldest first; the rest waits for more bytes.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &byte in bytes {
            if byte == b'\n' {
                lines.push(self.take());
            } else {
                self.partial.push(byte);
                if self.partial.len() >= self.max_len {
                    let rest = self.partial.split_off(complete_utf8_prefix(&self.partial));
                    lines.push(self.take());
                    self.partial = rest;
                }
            }
        }
        lines
    }

    /// Whether bytes of an unfinished line are waiting.
    #[cfg(test)]
    pub(crate) fn has_partial(&self) -> bool {
        !self.partial.is_empty()
    }

    /// The unfinished line as it is (a prompt printed without a newline), if any.
    pub(crate) fn flush(&mut self) -> Option<String> {
        if self.partial.is_empty() {
            None
        } else {
            Some(self.take())
        }
    }

    fn take(&mut self) -> String {
        if self.partial.last() == Some(&b'\r') {
            self.partial.pop();
        }
        let text = String::from_utf8_lossy(&self.partial).into_owned();
        self.partial.clear();
        text
    }
}

/// The length of `bytes` without a UTF-8 sequence its end leaves unfinished.
fn complete_utf8_prefix(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(4) {
        let byte = bytes[bytes.len() - back];
        if byte & 0xC0 == 0x80 {
            continue; // a continuation byte: the lead is further back
        }
        let needed = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        // Cutting everything would make no progress: then the line is cut where it is.
        return if needed > back && back < bytes.len() { bytes.len() - back } else { bytes.len() };
    }
    bytes.len()
}

struct QueueState {
    lines: VecDeque<LogLine>,
    bytes: usize,
    /// Lines lost since the last batch the server took (evicted here, or in a failed request).
    dropped: u64,
}

/// Lines waiting for the sender, at most `max_lines` and `max_bytes` of text: when full, the
/// oldest line goes (and is counted), so the reader that pushes never waits for the sender.
pub(crate) struct LogQueue {
    state: Mutex<QueueState>,
    ready: Condvar,
    max_lines: usize,
    max_bytes: usize,
}

impl LogQueue {
    pub(crate) fn new(max_lines: usize, max_bytes: usize) -> LogQueue {
        LogQueue {
            state: Mutex::new(QueueState { lines: VecDeque::new(), bytes: 0, dropped: 0 }),
            ready: Condvar::new(),
            max_lines: max_lines.max(1),
            max_bytes: max_bytes.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // A panic elsewhere must not stop the forwarding; the queue's state is always consistent.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a line, evicting the oldest ones while the queue is over either limit.
    pub(crate) fn push(&self, line: LogLine) {
        let mut state = self.lock();
        state.bytes += line.text.len();
        state.lines.push_back(line);
        while state.lines.len() > self.max_lines || (state.bytes > self.max_bytes && state.lines.len() > 1) {
            if let Some(old) = state.lines.pop_front() {
                state.bytes -= old.text.len();
                state.dropped += 1;
            }
        }
        drop(state);
        self.ready.notify_one();
    }

    /// Counts lines lost elsewhere (a batch the server never took).
    pub(crate) fn add_dropped(&self, count: u64) {
        self.lock().dropped += count;
    }

    /// Waits up to `timeout` for something to send; whether there is.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .ready
            .wait_timeout_while(state, timeout, |state| state.lines.is_empty() && state.dropped == 0)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        !state.lines.is_empty() || state.dropped > 0
    }

    /// The oldest lines, at most `max_lines` and (past the first) `max_bytes` of text, and the
    /// dropped count to report with them (reset: it is the batch's now).
    pub(crate) fn take_batch(&self, max_lines: usize, max_bytes: usize) -> (Vec<LogLine>, u64) {
        let mut state = self.lock();
        let mut batch = Vec::new();
        let mut bytes = 0;
        while batch.len() < max_lines {
            let size = match state.lines.front() {
                Some(line) => line.text.len(),
                None => break,
            };
            if !batch.is_empty() && bytes + size > max_bytes {
                break;
            }
            if let Some(line) = state.lines.pop_front() {
                state.bytes -= size;
                bytes += size;
                batch.push(line);
            }
        }
        let dropped = std::mem::replace(&mut state.dropped, 0);
        (batch, dropped)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().lines.len()
    }
}
