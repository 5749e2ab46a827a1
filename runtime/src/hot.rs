//! Hot calls: route a call through the current jump table, as subsecond's `HotFn` does.
//!
//! Each distinct closure type gets its own monomorphized [`trampoline`]. That function exists
//! under the same symbol name in the running executable and in every patch library built from
//! edited sources, so the server can map the executable's copy to the patch's copy by name. A
//! hot call takes the address of the executable's trampoline, asks [`resolve`] where the current
//! table sends it, and calls the patch's trampoline (same signature: `fn(&mut F) -> R`) with the
//! closure. The patch's trampoline then runs the *new* closure body and whatever new code it calls.

use crate::table::resolve;

/// Calls the closure. `#[inline(never)]` keeps one real function per closure type, with an
/// address and a symbol, for the jump table to route.
#[inline(never)]
fn trampoline<R, F: FnMut() -> R>(f: &mut F) -> R {
    f()
}

/// Runs `f`, or the newest patched version of it if a patch replaced this call site's code.
///
/// ```
/// let mut ticks = 0;
/// let answer = whisker_hot::call(|| { ticks += 1; 40 + ticks });
/// assert_eq!(answer, 41);
/// ```
///
/// Without an applied patch this costs one atomic load. The patched code receives the same
/// closure value, so what it captures (the caller's state) is kept across patches — as long as
/// the edit does not change the layout of the captured values.
pub fn call<R, F: FnMut() -> R>(mut f: F) -> R {
    let original: fn(&mut F) -> R = trampoline::<R, F>;
    match resolve(original as usize as u64) {
        Some(patched) => {
            // SAFETY: the table maps this trampoline to the same trampoline compiled from the
            // edited sources, which has the identical signature `fn(&mut F) -> R`; `apply` has
            // checked the address lies in the patch library's code.
            let patched: fn(&mut F) -> R = unsafe { std::mem::transmute::<usize, fn(&mut F) -> R>(patched as usize) };
            patched(&mut f)
        }
        None => original(&mut f),
    }
}

/// The runtime address [`call`] looks up for closures of `f`'s type: the key a jump table must
/// map to route such calls. Tools and tests use it; apps do not need it.
pub fn hot_fn_address<R, F: FnMut() -> R>(_f: &F) -> u64 {
    let original: fn(&mut F) -> R = trampoline::<R, F>;
    original as usize as u64
}
