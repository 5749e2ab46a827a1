//! Unix: puts a pipe under fds 1 and 2 and reads it on one thread per stream. What it reads goes
//! on at once to the stream's original file (the app's terminal still shows everything), line by
//! line, and is cut into lines for the [`LogQueue`]. The reader always drains: the app's write
//! waits at most for the pipe to have room, never for the network.
//!
//! Line by line because the two readers run side by side: with stdout and stderr on one terminal
//! (or `2>&1`), bytes teed as they came would mix a stdout line into the middle of a stderr line
//! written in pieces (`eprintln!` makes one `write` per piece). An unfinished line (a prompt)
//! goes out after a short quiet.

use super::lines::{LineSplitter, LogLine, LogQueue, Stream};
use crate::error::{Error, ErrorKind};
use std::fs::File;
use std::io::{Read, Write};
use std::os::raw::{c_int, c_short};
use std::os::unix::io::{AsRawFd, FromRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

/// A line longer than this is forwarded in pieces.
const MAX_LINE: usize = 16 * 1024;
/// An unfinished line (a prompt) is forwarded after this much quiet.
const PARTIAL_AFTER_MS: c_int = 50;

const F_DUPFD: c_int = 0;
const F_SETFD: c_int = 2;
const FD_CLOEXEC: c_int = 1;
const POLLIN: c_short = 1;

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
type Nfds = std::os::raw::c_ulong;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
type Nfds = std::os::raw::c_uint;

extern "C" {
    fn pipe(fds: *mut c_int) -> c_int;
    fn dup2(old: c_int, new: c_int) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn poll(fds: *mut PollFd, count: Nfds, timeout: c_int) -> c_int;
    fn atexit(callback: extern "C" fn()) -> c_int;
}

/// Runs `callback` when the process exits (`exit`, or `main` returning), while the reader
/// threads still run.
pub(super) fn at_exit(callback: extern "C" fn()) {
    // SAFETY: registers a plain function; a failure only means no flush at exit.
    unsafe { atexit(callback) };
}

fn os_error(what: &str) -> Error {
    Error::new(ErrorKind::Io, format!("log forwarding: {what}: {}", std::io::Error::last_os_error()))
}

/// `fd` is not inherited by programs the app executes: they must not hold our pipe or copies.
fn close_on_exec(fd: c_int) -> Result<(), Error> {
    // SAFETY: plain fcntl on a descriptor this module owns.
    if unsafe { fcntl(fd, F_SETFD, FD_CLOEXEC) } < 0 {
        return Err(os_error("fcntl(F_SETFD)"));
    }
    Ok(())
}

/// A copy of `fd` above 2, close-on-exec.
fn duplicate(fd: c_int) -> Result<File, Error> {
    // SAFETY: fcntl(F_DUPFD) returns a new descriptor or -1; nothing else is touched.
    let copy = unsafe { fcntl(fd, F_DUPFD, 3 as c_int) };
    if copy < 0 {
        return Err(os_error(&format!("dup of fd {fd}")));
    }
    // SAFETY: `copy` is a fresh descriptor owned by nobody else.
    let file = unsafe { File::from_raw_fd(copy) };
    close_on_exec(copy)?;
    Ok(file)
}

/// Whether `fd` has bytes (or EOF) within `timeout_ms`.
fn readable(fd: c_int, timeout_ms: c_int) -> bool {
    let mut entry = PollFd { fd, events: POLLIN, revents: 0 };
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { poll(&mut entry, 1, timeout_ms) > 0 }
}

/// One captured stream: its fd number, the original file it had, and our pipe's two ends.
pub(super) struct Captured {
    fd: c_int,
    original: File,
    write_end: File,
    read_fd: c_int,
    /// The reader holds an unfinished line, not yet on the terminal.
    holding: Arc<AtomicBool>,
}

impl Captured {
    /// Points `fd` back at its original file (before an `exec`: the new program must find the
    /// terminal there, not a pipe nobody reads).
    pub(super) fn restore(&self) {
        // SAFETY: both descriptors are open; dup2 is atomic for `fd`.
        unsafe { dup2(self.original.as_raw_fd(), self.fd) };
    }

    /// Puts the pipe under `fd` again.
    pub(super) fn reinstall(&self) {
        // SAFETY: as in `restore`.
        unsafe { dup2(self.write_end.as_raw_fd(), self.fd) };
    }

    /// Waits, at most `budget_ms`, for the reader to have taken what is in the pipe and written
    /// out an unfinished line.
    pub(super) fn drain(&self, budget_ms: u64) {
        let started = std::time::Instant::now();
        while (readable(self.read_fd, 0) || self.holding.load(Ordering::SeqCst)) && started.elapsed().as_millis() < u128::from(budget_ms) {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        // The reader may have taken the last bytes and not yet written them out.
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Redirects `fd` (1 or 2) into a pipe read by a new thread that tees into the original file and
/// queues lines as `stream`.
pub(super) fn capture(fd: c_int, stream: Stream, queue: Arc<LogQueue>) -> Result<Captured, Error> {
    let original = duplicate(fd)?;
    let mut ends = [0 as c_int; 2];
    // SAFETY: `ends` has room for the two descriptors pipe() writes.
    if unsafe { pipe(ends.as_mut_ptr()) } < 0 {
        return Err(os_error("pipe"));
    }
    // SAFETY: pipe() just made both descriptors; each is owned by one File from here on.
    let (read_end, write_end) = unsafe { (File::from_raw_fd(ends[0]), File::from_raw_fd(ends[1])) };
    close_on_exec(ends[0])?;
    close_on_exec(ends[1])?;
    let tee = original.try_clone().map_err(|err| Error::new(ErrorKind::Io, format!("log forwarding: {err}")))?;
    let read_fd = read_end.as_raw_fd();
    let holding = Arc::new(AtomicBool::new(false));
    let reader = Reader { pipe: read_end, tee, unfinished: Vec::new(), holding: holding.clone(), stream };
    std::thread::Builder::new()
        .name(format!("whisker-hot-{}", stream.name()))
        .spawn(move || reader.run(&queue))
        .map_err(|err| Error::new(ErrorKind::Io, format!("log forwarding: cannot start a reader: {err}")))?;
    let captured = Captured { fd, original, write_end, read_fd, holding };
    // Flush what Rust's stdout buffered for the old file first, so its order is kept.
    let _ = std::io::stdout().flush();
    captured.reinstall();
    Ok(captured)
}

/// One stream's reader thread.
struct Reader {
    pipe: File,
    tee: File,
    /// Bytes after the last line break read, not yet teed.
    unfinished: Vec<u8>,
    holding: Arc<AtomicBool>,
    stream: Stream,
}

impl Reader {
    fn run(mut self, queue: &LogQueue) {
        let mut splitter = LineSplitter::new(MAX_LINE);
        let mut buffer = vec![0u8; 16 * 1024];
        let now_ms = || super::super::ack::epoch_ms(SystemTime::now());
        loop {
            if !self.unfinished.is_empty() && !readable(self.pipe.as_raw_fd(), PARTIAL_AFTER_MS) {
                self.tee_unfinished();
                if let Some(text) = splitter.flush() {
                    queue.push(LogLine { stream: self.stream, time_ms: now_ms(), text });
                }
                self.holding.store(false, Ordering::SeqCst);
                continue;
            }
            let count = match self.pipe.read(&mut buffer) {
                // We hold a write end ourselves: EOF never comes; stop if it somehow does.
                Ok(0) => return,
                Ok(count) => count,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            let bytes = &buffer[..count];
            match bytes.iter().rposition(|&byte| byte == b'\n') {
                Some(last) => {
                    self.unfinished.extend_from_slice(&bytes[..=last]);
                    self.tee_unfinished();
                    self.unfinished.extend_from_slice(&bytes[last + 1..]);
                }
                None => self.unfinished.extend_from_slice(bytes),
            }
            if self.unfinished.len() >= MAX_LINE {
                self.tee_unfinished();
            }
            self.holding.store(!self.unfinished.is_empty(), Ordering::SeqCst);
            let time_ms = now_ms();
            for text in splitter.push(bytes) {
                queue.push(LogLine { stream: self.stream, time_ms, text });
            }
        }
    }

    fn tee_unfinished(&mut self) {
        // Whatever happens: a closed or broken original is the app's business, as it would have
        // been without us; the reader keeps draining regardless.
        let _ = self.tee.write_all(&self.unfinished);
        self.unfinished.clear();
    }
}
