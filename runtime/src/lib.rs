//! # whisker-hot — the in-app runtime of Whisker Hotpatch
//!
//! Edit a Rust function, save, and the *running* process runs the new code. The dev server
//! compiles the edit into a patch library and a jump table; this crate, linked into the app,
//! loads them and routes calls.
//!
//! - [`call`] runs a closure through the current jump table: after a patch, the closure's new
//!   code runs (and everything it calls from the patch), with the caller's state intact.
//! - [`aslr_reference`] is the runtime address of the executable's `main`, which the server
//!   needs to slide addresses for this process.
//! - [`apply_json`] / [`apply`] load a patch library and install its jump table atomically.
//! - [`connect`] talks to `whisker-dev serve` on a background thread (`WHISKER_DEV_SERVER`,
//!   `WHISKER_DEV_TOKEN`, `WHISKER_DEVICE_NAME`, `WHISKER_BUILD_ID`) and applies patches as they
//!   come.
//! - [`on_save_state`] / [`restored_state`] carry bytes the app chooses across a hot restart
//!   (the process replaced by a new build when an edit can't be patched).
//!
//! ```no_run
//! # #[allow(clippy::needless_doctest_main)]
//! fn main() {
//!     println!("whisker: aslr_reference={:#x}", whisker_hot::aslr_reference());
//!     whisker_hot::connect();
//!     let mut ticks = 0u64;
//!     loop {
//!         whisker_hot::call(|| {
//!             ticks += 1;
//!             println!("tick {ticks}");
//!         });
//!         std::thread::sleep(std::time::Duration::from_millis(500));
//!     }
//! }
//! ```
//!
//! Only code reached through a [`call`] changes; code already on the stack keeps running its old
//! version until it returns — unless the table carries `entryPatches` (`--entry-patching`, Linux
//! and Android): then each changed old function starts with a jump to its new code, and every
//! caller runs it. std only: no dependencies.

// Every unsafe operation gets its own `unsafe` block and SAFETY comment, even inside an
// `unsafe fn` (the 2024 edition's default). Rust 1.63 also needs it said: without the lint it
// reports those inner blocks as unnecessary.
#![warn(unsafe_op_in_unsafe_fn)]

mod anchor;
mod client;
mod dl;
mod entry;
mod error;
// The fuzzers' entry points (scripts/fuzz.sh); absent from every normal build.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod hot;
mod http;
mod json;
mod sha256;
mod table;

pub use anchor::aslr_reference;
pub use client::{connect, connect_with, env, on_restart, on_save_state, restored_state, target_triple, ConnectOptions, RestartRequest};
pub use entry::{EntryPatch, JUMP_LEN as ENTRY_JUMP_LEN};
pub use error::{Error, ErrorKind};
pub use hot::{call, hot_fn_address};
pub use sha256::sha256_hex;
pub use table::{apply, apply_json, patch_count, resolve, AppliedPatch, Addressing, JumpTable, NewBase};
