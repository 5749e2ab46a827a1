//! Device logs: the app's stdout and stderr, forwarded to the dev server as
//! `POST /api/devices/{id}/logs` while still reaching the app's own terminal.
//!
//! [`start`] (called by `connect_with` unless [`ConnectOptions::forward_logs`] is off, once per
//! process) puts a pipe under fds 1 and 2 (`capture`, Unix only). A reader thread per stream
//! copies each byte to the original file at once and queues its lines (`lines::LogQueue`:
//! bounded, the oldest dropped and counted when full); the sender thread (`sender`) batches them
//! to the device the session registered as ([`device_registered`]). Nothing of this waits on the
//! network in the app's threads: a write waits at most for the pipe to have room, and the reader
//! always empties it.
//!
//! [`ConnectOptions::forward_logs`]: super::ConnectOptions::forward_logs

// Elsewhere nothing is captured: the queue and sender are compiled (and tested) but not started.
#![cfg_attr(not(unix), allow(dead_code))]

#[cfg(unix)]
mod capture;
mod lines;
mod sender;

use crate::http::Url;
use sender::Target;
use std::sync::{Arc, Mutex};

/// Lines kept while the server is slow or away (and before the device is registered).
const QUEUE_LINES: usize = 4000;
const QUEUE_BYTES: usize = 1024 * 1024;

/// Where the sender sends; `None` until a session registers.
static TARGET: Mutex<Option<Arc<Mutex<Option<Target>>>>> = Mutex::new(None);
#[cfg(unix)]
static CAPTURED: Mutex<Vec<capture::Captured>> = Mutex::new(Vec::new());

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts forwarding fds 1 and 2 (once per process; later calls do nothing). Returns why not when
/// it could not: the app then runs as before, its output untouched.
pub(super) fn start() -> Result<(), crate::error::Error> {
    let mut slot = lock(&TARGET);
    if slot.is_some() {
        return Ok(());
    }
    let target = Arc::new(Mutex::new(None));
    start_platform(target.clone())?;
    *slot = Some(target);
    Ok(())
}

#[cfg(unix)]
fn start_platform(target: Arc<Mutex<Option<Target>>>) -> Result<(), crate::error::Error> {
    use lines::{LogQueue, Stream};
    let queue = Arc::new(LogQueue::new(QUEUE_LINES, QUEUE_BYTES));
    let mut captured = lock(&CAPTURED);
    for (fd, stream) in [(1, Stream::Stdout), (2, Stream::Stderr)] {
        match capture::capture(fd, stream, queue.clone()) {
            Ok(one) => captured.push(one),
            Err(err) => {
                // Half a capture is worse than none: give stdout back if stderr failed.
                for one in captured.drain(..) {
                    one.restore();
                }
                return Err(err);
            }
        }
    }
    drop(captured);
    // Without this, what the app printed just before exiting would still be in the pipe when the
    // process ends, lost to its terminal too.
    capture::at_exit(restore_at_exit);
    std::thread::Builder::new()
        .name("whisker-hot-logs".to_string())
        .spawn(move || sender::run(queue, target))
        .map_err(|err| crate::error::Error::new(crate::error::ErrorKind::Io, format!("log forwarding: cannot start the sender: {err}")))?;
    Ok(())
}

#[cfg(unix)]
extern "C" fn restore_at_exit() {
    // `try_lock`: exit may come from a thread that holds the lock; then there is no flush.
    if let Ok(captured) = CAPTURED.try_lock() {
        for one in captured.iter() {
            one.restore();
            one.drain(1000);
        }
    }
}

/// Nothing to capture with: the app's output stays as it is, without a warning on every start.
#[cfg(not(unix))]
fn start_platform(_target: Arc<Mutex<Option<Target>>>) -> Result<(), crate::error::Error> {
    Ok(())
}

/// The session registered as `device` with the server at `base`: lines go there from now on.
pub(super) fn device_registered(base: &Url, token: Option<&str>, device: &str) {
    if let Some(target) = lock(&TARGET).as_ref() {
        *lock(target) = Some(Target { base: base.clone(), token: token.map(str::to_string), device: device.to_string() });
    }
}

/// While this lives, fds 1 and 2 are the app's original files again: a restart `exec`s with it
/// held, so the new program inherits the terminal, not a pipe whose reader is gone. Dropped (the
/// exec failed or was declined), the pipes are back.
pub(super) struct OriginalOutput(());

pub(super) fn original_output_for_exec() -> OriginalOutput {
    #[cfg(unix)]
    for one in lock(&CAPTURED).iter() {
        one.restore();
        // What the app wrote just before still reaches the terminal.
        one.drain(100);
    }
    OriginalOutput(())
}

impl Drop for OriginalOutput {
    fn drop(&mut self) {
        #[cfg(unix)]
        for one in lock(&CAPTURED).iter() {
            one.reinstall();
        }
    }
}

#[cfg(test)]
mod tests;
