//! The first bytes of every function an entry patch overwrote, as the fat build had them.
//!
//! A table replaces the previous one entirely, entry patches included: a function an earlier table
//! jumped from that the new table does not list (a revert to an earlier patch, or to the fat build's
//! empty table) must run its own code again. Its original bytes are saved the first time a jump is
//! written over them — later writes would only save an older jump — and written back then.

use super::JUMP_LEN;
use std::sync::Mutex;

/// One overwritten function start.
struct Original {
    old: u64,
    bytes: Vec<u8>,
    /// Whether a jump is written there now (false once restored).
    jumped: bool,
}

/// Sorted by `old`. Only changed under `apply`'s lock; the mutex is what makes the static `Sync`.
static ORIGINALS: Mutex<Vec<Original>> = Mutex::new(Vec::new());

fn originals() -> std::sync::MutexGuard<'static, Vec<Original>> {
    ORIGINALS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Function starts that hold a jump now and whose address is not in `keep` (sorted): what a new
/// table without them must restore.
pub(crate) fn to_restore(keep: &[u64]) -> Vec<u64> {
    originals().iter().filter(|original| original.jumped && keep.binary_search(&original.old).is_err()).map(|o| o.old).collect()
}

/// Saves the bytes at `old` before a jump is written over them, the first time only.
///
/// # Safety
/// `[old, old + JUMP_LEN)` must be mapped and readable.
pub(crate) unsafe fn save_before_jump(old: u64) {
    let mut list = originals();
    match list.binary_search_by_key(&old, |original| original.old) {
        Ok(index) => list[index].jumped = true,
        Err(index) => {
            // SAFETY: the caller guarantees the range is mapped and readable.
            let bytes = unsafe { std::slice::from_raw_parts(old as usize as *const u8, JUMP_LEN as usize) }.to_vec();
            list.insert(index, Original { old, bytes, jumped: true });
        }
    }
}

/// The saved bytes of `old`, marked as no longer jumped; nil when nothing was ever written there.
pub(crate) fn take_for_restore(old: u64) -> Option<Vec<u8>> {
    let mut list = originals();
    let index = list.binary_search_by_key(&old, |original| original.old).ok()?;
    list[index].jumped = false;
    Some(list[index].bytes.clone())
}
