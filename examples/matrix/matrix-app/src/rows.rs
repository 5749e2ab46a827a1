//! One function per row of the edit-kind matrix (issue 6). `tick` runs through
//! `whisker_hot::call`, so after a patch every row below runs its new code.
//!
//! `scripts/edit-matrix.py` edits these lines IN PLACE and never adds lines above a function:
//! debug builds embed line numbers (panic locations), so a shifted function would count as
//! changed. New functions go at the end of the file.

use std::sync::atomic::{AtomicU64, Ordering};

/// Ticks seen by this process; after a patch the count must continue, not restart.
static COUNTER: AtomicU64 = AtomicU64::new(0);

#[cfg(feature = "thread-local")]
thread_local! {
    /// Ticks seen by the main thread; after a patch the count must continue, not restart.
    static TL_COUNTER: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The app's state that lives in the caller (`main`), passed into the hot call.
pub struct State {
    pub ticks: u64,
}

fn body_value() -> u64 {
    40 + 2
}

fn new_fn_row() -> String {
    String::from("original")
}

fn scale(x: u64) -> u64 {
    x * 2
}

fn signature_row() -> String {
    format!("{}", scale(21))
}

fn describe<T: std::fmt::Debug>(value: T) -> String {
    format!("{value:?}")
}

fn generic_row() -> String {
    describe(7u32)
}

fn closure_row() -> String {
    let f = |x: u64| x + 1;
    format!("{}", f(10))
}

trait Shape {
    fn area(&self) -> u64;
}

struct Square(u64);

impl Shape for Square {
    fn area(&self) -> u64 {
        self.0 * self.0
    }
}

fn trait_row() -> String {
    let shape: Box<dyn Shape> = Box::new(Square(5));
    format!("{}", shape.area())
}

fn literal_row() -> &'static str {
    "literal v0"
}

fn static_row() -> String {
    format!("{}", COUNTER.load(Ordering::Relaxed))
}

#[cfg(feature = "thread-local")]
fn thread_local_row() -> String {
    format!("{}", TL_COUNTER.with(|counter| counter.get()))
}

#[cfg(not(feature = "thread-local"))]
fn thread_local_row() -> String {
    String::from("off")
}

fn chain_row() -> u64 {
    0
}

fn panic_row() -> String {
    String::from("calm")
}

/// Called by `main` directly, not through `whisker_hot::call`: only entry patching (a jump
/// written at the old function's start) makes its new code run.
#[inline(never)]
pub fn entry_row() -> String {
    String::from("entry v0")
}

/// One tick: `tick <n>`, then one `row <name>: <value>` line per row (panic last: when it
/// panics, every other row has printed already).
pub fn tick(state: &mut State) {
    state.ticks += 1;
    COUNTER.fetch_add(1, Ordering::Relaxed);
    #[cfg(feature = "thread-local")]
    TL_COUNTER.with(|counter| counter.set(counter.get() + 1));
    crate::say(&format!("tick {}", state.ticks));
    crate::say(&format!("row body: {}", body_value()));
    crate::say(&format!("row new-fn: {}", new_fn_row()));
    crate::say(&format!("row signature: {}", signature_row()));
    crate::say(&format!("row generic: {}", generic_row()));
    crate::say(&format!("row closure: {}", closure_row()));
    crate::say(&format!("row trait: {}", trait_row()));
    crate::say(&format!("row literal: {}", literal_row()));
    crate::say(&format!("row static: {}", static_row()));
    crate::say(&format!("row thread-local: {}", thread_local_row()));
    crate::say(&format!("row lib: {}", matrix_lib::lib_value()));
    crate::say(&format!("row chain: {}", chain_row()));
    crate::say(&format!("row panic: {}", panic_row()));
}
