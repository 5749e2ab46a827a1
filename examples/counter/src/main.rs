//! The Whisker Hotpatch example: prints a numbered line per tick from a hot-called function.
//! Edit `message()` (or `tick`), patch, and the same process prints the new text while the
//! counter keeps counting.
//!
//! stdout protocol (one line each, flushed):
//! - `whisker: aslr_reference=0x<hex>` and `whisker: pid=<pid>` at start;
//! - `tick <n>: <message>` per tick;
//! - `heartbeat <round>: <text>` every `COUNTER_HEARTBEAT_EVERY` rounds (default: never);
//! - on **stderr**, `note <round>` every `COUNTER_STDERR_EVERY` rounds (default: never), for the
//!   tests of forwarded device logs (both streams);
//! - `whisker: applied patch <patchId>` / `whisker: patch failed: <error>` per JumpTable path
//!   read from stdin;
//! - `whisker: tick panicked: <message>` when patched code panics (the app keeps running);
//! - `whisker: restored state: ticks=<n>` at start after a hot restart (the count goes on).
//!
//! Environment: `COUNTER_INTERVAL_MS` (default 500), `COUNTER_MAX_TICKS` (exit 0 after that many
//! ticks), `COUNTER_HEARTBEAT_EVERY`, `COUNTER_STDERR_EVERY`, plus whisker-hot's
//! `WHISKER_DEV_SERVER` & co. for `connect()`.
//!
//! Two things a patch must keep or reach, for the device tests: `TICKS_SEEN`, a static `tick`
//! counts in (a patch that prints it shows whether it kept the executable's static or started a
//! fresh copy: it equals the tick number only in the first case), and `heartbeat`, which `main`'s
//! loop calls directly, so only entry patching (`serve --entry-patching`) brings an edit of it in.

use std::io::{BufRead, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Ticks run since start, kept in a static (not in `State`) on purpose: see the module doc.
static TICKS_SEEN: AtomicU64 = AtomicU64::new(0);
/// `State::ticks` as of the last tick, for the hot-restart hook (it runs on whisker-hot's thread).
static TICKS_TO_KEEP: AtomicU64 = AtomicU64::new(0);

/// What the app keeps across patches.
struct State {
    ticks: u64,
}

fn message() -> &'static str {
    "hello from counter"
}

fn tick(state: &mut State) {
    state.ticks += 1;
    TICKS_SEEN.fetch_add(1, Ordering::Relaxed);
    say(&format!("tick {}: {}", state.ticks, message()));
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout must not kill the app; there is nobody to tell anyway.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Called straight from `main`'s loop, never through `whisker_hot::call` (see the module doc).
#[inline(never)]
fn heartbeat(round: u64, every: u64) {
    if every != 0 && round % every == 0 {
        say(&format!("heartbeat {round}: steady"));
    }
}

/// `note <round>` on stderr every `every` rounds (see the module doc).
fn note(round: u64, every: u64) {
    if every != 0 && round % every == 0 {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "note {round}");
        let _ = err.flush();
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|value| value.trim().parse().ok())
}

/// Applies the JumpTable at `path` and reports the outcome on stdout.
fn apply_table_file(path: &str) {
    let outcome = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {path}: {err}"))
        .and_then(|text| whisker_hot::JumpTable::from_json(&text).map_err(|err| err.to_string()))
        .and_then(|table| whisker_hot::apply(&table).map_err(|err| err.to_string()));
    match outcome {
        Ok(applied) => {
            let id = applied.patch_id.map_or_else(|| whisker_hot::patch_count().to_string(), |id| id.to_string());
            say(&format!("whisker: applied patch {id}"));
        }
        Err(err) => say(&format!("whisker: patch failed: {err}")),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

fn main() {
    say(&format!("whisker: aslr_reference={:#x}", whisker_hot::aslr_reference()));
    say(&format!("whisker: pid={}", std::process::id()));
    whisker_hot::connect();

    // Each stdin line names a JumpTable file; EOF ends only this reader, not the app.
    let _ = std::thread::Builder::new().name("jump-tables".into()).spawn(|| {
        for line in std::io::stdin().lock().lines() {
            let line = match line {
                Ok(line) => line,
                Err(_) => break,
            };
            let path = line.trim();
            if !path.is_empty() {
                apply_table_file(path);
            }
        }
    });

    let interval = Duration::from_millis(env_number("COUNTER_INTERVAL_MS").unwrap_or(500));
    let max_ticks = env_number("COUNTER_MAX_TICKS");
    let heartbeat_every = env_number("COUNTER_HEARTBEAT_EVERY").unwrap_or(0);
    let stderr_every = env_number("COUNTER_STDERR_EVERY").unwrap_or(0);
    let mut state = State { ticks: 0 };
    // A hot restart (an edit no patch can carry) replaces this process with a new build: the count
    // goes on from where the old process was, as 8 little-endian bytes both builds agree on.
    whisker_hot::on_save_state(|| TICKS_TO_KEEP.load(Ordering::Relaxed).to_le_bytes().to_vec());
    if let Some(bytes) = whisker_hot::restored_state() {
        if let Ok(ticks) = <[u8; 8]>::try_from(bytes.as_slice()) {
            state.ticks = u64::from_le_bytes(ticks);
            say(&format!("whisker: restored state: ticks={}", state.ticks));
        }
    }
    let mut rounds = 0u64;
    loop {
        let outcome = catch_unwind(AssertUnwindSafe(|| whisker_hot::call(|| tick(&mut state))));
        if let Err(payload) = outcome {
            say(&format!("whisker: tick panicked: {}", panic_text(payload.as_ref())));
        }
        TICKS_TO_KEEP.store(state.ticks, Ordering::Relaxed);
        rounds += 1;
        heartbeat(rounds, heartbeat_every);
        note(rounds, stderr_every);
        if max_ticks.map_or(false, |max| rounds >= max) {
            return;
        }
        std::thread::sleep(interval);
    }
}
