//! The jump table: the process-wide table that [`crate::call`] consults. Parsing the server's
//! JSON is in `table/parse.rs`, checking a table and installing it in `table/apply.rs`.
//!
//! The installed table is an immutable sorted array behind an `AtomicPtr`. Applying a patch
//! builds a complete new array and swaps the pointer, so a reader sees either the old table or
//! the new one, never a mix. Old arrays are leaked on purpose: a reader on another thread may
//! still be searching one, and a few KB per patch is cheaper than any reclamation scheme.

mod apply;
mod parse;
#[cfg(test)]
mod tests;

pub use apply::{apply, apply_json, AppliedPatch};
pub use parse::{Addressing, JumpTable, NewBase};

use crate::error::{Error, ErrorKind};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidTable, format!("invalid jump table: {}", message.into()))
}

/// An immutable routing table: sorted by old address, one entry per old address.
#[derive(Debug)]
pub(crate) struct Routes {
    entries: Vec<(u64, u64)>,
}

impl Routes {
    pub(crate) fn new(mut entries: Vec<(u64, u64)>) -> Result<Routes, Error> {
        entries.sort_unstable();
        entries.dedup();
        if let Some(pair) = entries.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(invalid(format!(
                "old address {:#x} is routed to two places ({:#x} and {:#x})",
                pair[0].0, pair[0].1, pair[1].1
            )));
        }
        Ok(Routes { entries })
    }

    pub(crate) fn lookup(&self, old: u64) -> Option<u64> {
        self.entries.binary_search_by_key(&old, |&(key, _)| key).ok().map(|index| self.entries[index].1)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

static CURRENT: AtomicPtr<Routes> = AtomicPtr::new(std::ptr::null_mut());
static PATCHES_APPLIED: AtomicUsize = AtomicUsize::new(0);

/// Where the current table sends the function at runtime address `old`, if anywhere.
///
/// This is the one lookup every [`crate::call`] makes. It is deliberately non-generic and never
/// inlined: patch libraries contain their own copies of generic code, and they must all reach
/// *this* function in the executable (and so the executable's table), not a copy of their own.
#[inline(never)]
pub fn resolve(old: u64) -> Option<u64> {
    let table = CURRENT.load(Ordering::Acquire);
    if table.is_null() {
        return None;
    }
    // SAFETY: non-null pointers in CURRENT come from Box::into_raw in `install` and are never freed.
    unsafe { &*table }.lookup(old)
}

fn install(routes: Routes) {
    let fresh = Box::into_raw(Box::new(routes));
    // The previous table is leaked, not freed: see the module comment.
    let _previous = CURRENT.swap(fresh, Ordering::AcqRel);
    PATCHES_APPLIED.fetch_add(1, Ordering::AcqRel);
}

/// How many patches this process has applied successfully.
pub fn patch_count() -> usize {
    PATCHES_APPLIED.load(Ordering::Acquire)
}
