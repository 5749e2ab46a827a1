//! The ASLR anchor: the executable's C `main`, whose file address the server knows.

use std::os::raw::{c_char, c_int};

extern "C" {
    /// The C entry point rustc emits in every executable (it calls the Rust `main`).
    fn main(argc: c_int, argv: *const *const c_char) -> c_int;
}

/// The runtime address of the executable's C `main` symbol.
///
/// The server computes this process's slide as `aslr_reference() − main's file address` and
/// slides every jump table it sends accordingly. It is the same value in every thread and for the
/// life of the process.
///
/// Never inlined: inlined into the binary crate (release builds inline small functions across
/// crates), the declaration of `main` below would meet the `main` rustc generates there and
/// rustc refuses the crate ("entry symbol `main` declared multiple times").
#[inline(never)]
pub fn aslr_reference() -> u64 {
    let entry: unsafe extern "C" fn(c_int, *const *const c_char) -> c_int = main;
    entry as usize as u64
}
