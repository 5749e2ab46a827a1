//! The edit-kind matrix example (issue 6): each tick prints one line per kind of edit
//! (`row <name>: <value>`, see `rows.rs`), so `scripts/edit-matrix.py` can edit one row, save,
//! and watch the same process print the new value while its counters keep counting.
//!
//! stdout protocol (one line each, flushed):
//! - `whisker: aslr_reference=0x<hex>` and `whisker: pid=<pid>` at start;
//! - per tick: `tick <n>`, then `row <name>: <value>` lines;
//! - `whisker: applied patch <n>` when the n-th patch has been applied (`connect()` applies
//!   them on its own thread; the runtime's stderr line names the server's patch id);
//! - `row panic: caught <message>` when patched code panics (the app keeps running);
//! - `row entry: <value>` from a function `main` calls directly (changes only with entry patching).
//!
//! Environment: `MATRIX_INTERVAL_MS` (default 200), `MATRIX_MAX_TICKS` (exit 0 after that many
//! ticks), plus whisker-hot's `WHISKER_DEV_SERVER` & co. for `connect()`.

mod rows;

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout must not kill the app; there is nobody to tell anyway.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|value| value.trim().parse().ok())
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

    let interval = Duration::from_millis(env_number("MATRIX_INTERVAL_MS").unwrap_or(200));
    let max_ticks = env_number("MATRIX_MAX_TICKS");
    let mut state = rows::State { ticks: 0 };
    // connect() offers no callback, so the tick loop notices applied patches by their count.
    let mut applied = whisker_hot::patch_count();
    let mut rounds = 0u64;
    loop {
        let now = whisker_hot::patch_count();
        if now > applied {
            applied = now;
            say(&format!("whisker: applied patch {now}"));
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| whisker_hot::call(|| rows::tick(&mut state))));
        if let Err(payload) = outcome {
            say(&format!("row panic: caught {}", panic_text(payload.as_ref())));
        }
        say(&format!("row entry: {}", rows::entry_row()));
        rounds += 1;
        if max_ticks.map_or(false, |max| rounds >= max) {
            return;
        }
        std::thread::sleep(interval);
    }
}
