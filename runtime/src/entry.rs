//! Entry patching (opt-in, `"entryPatches"` in a jump table): an absolute jump written over the
//! first bytes of a changed old function, so *every* caller — direct calls, function pointers,
//! vtables, not only [`crate::call`] sites — runs the new code.
//!
//! Linux and Android on x86_64 and aarch64 only: the process must be allowed to make its own code
//! pages writable (`mprotect` with `PROT_WRITE | PROT_EXEC`; hardened SELinux policies refuse it).
//!
//! A thread executing an old function's first bytes at the very moment they are rewritten may see
//! a torn instruction. That window is a few nanoseconds per patch and acceptable in a dev build;
//! code already past the entry keeps running its old version until it returns.

use crate::error::{Error, ErrorKind};

mod originals;

pub(crate) use originals::to_restore;

/// One function whose start gets a jump to its new code: addresses already final (old slid into
/// this process, new rebased onto the library), `size` the old function's size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryPatch {
    /// The old function's address (as written in the table: `entryPatches[i][0]`).
    pub old: u64,
    /// The new function's address (as written in the table: `entryPatches[i][1]`).
    pub new: u64,
    /// The old function's size in bytes: a function shorter than the jump is skipped.
    pub size: u64,
}

/// Bytes of the absolute jump written at an old function's start on this architecture.
#[cfg(target_arch = "x86_64")]
pub const JUMP_LEN: u64 = 14;
#[cfg(target_arch = "aarch64")]
pub const JUMP_LEN: u64 = 16;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub const JUMP_LEN: u64 = 0;

/// Whether this build of the runtime can write entry patches at all.
pub(crate) const SUPPORTED: bool = cfg!(all(
    any(target_os = "linux", target_os = "android"),
    any(target_arch = "x86_64", target_arch = "aarch64")
));

/// The refusal for tables with entry patches where they cannot be written.
pub(crate) fn unsupported() -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "the jump table asks for entry patches, which whisker-hot writes only on Linux/Android x86_64 and aarch64 \
             (this is {} {}); patch without --entry-patching",
            std::env::consts::OS,
            std::env::consts::ARCH
        ),
    )
}

/// `x86_64`: `jmp *0(%rip)` followed by the 8-byte target.
#[cfg(target_arch = "x86_64")]
pub(crate) fn jump_bytes(target: u64) -> Vec<u8> {
    let mut bytes = vec![0xff, 0x25, 0, 0, 0, 0];
    bytes.extend_from_slice(&target.to_le_bytes());
    bytes
}

/// `aarch64`: `ldr x16, #8; br x16; .quad target` (x16 is the intra-procedure-call scratch
/// register the ABI lets veneers clobber).
#[cfg(target_arch = "aarch64")]
pub(crate) fn jump_bytes(target: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(16);
    bytes.extend_from_slice(&0x5800_0050u32.to_le_bytes());
    bytes.extend_from_slice(&0xd61f_0200u32.to_le_bytes());
    bytes.extend_from_slice(&target.to_le_bytes());
    bytes
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) fn jump_bytes(_target: u64) -> Vec<u8> {
    Vec::new()
}

/// The checked plan: which entries get a jump, and how many were too small for one.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) writes: Vec<EntryPatch>,
    pub(crate) skipped: usize,
}

/// Checks every entry before anything is written, so a bad table changes nothing.
///
/// `old_in_code(start, end)` must say whether `[start, end)` lies inside one loaded code segment;
/// `new_ok(address)` whether a new address is acceptable code.
pub(crate) fn plan(
    patches: &[EntryPatch],
    old_in_code: impl Fn(u64, u64) -> bool,
    new_ok: impl Fn(u64) -> bool,
    lib: &str,
) -> Result<Plan, Error> {
    if patches.is_empty() {
        return Ok(Plan::default());
    }
    if !SUPPORTED {
        return Err(unsupported());
    }
    let mut plan = Plan::default();
    for (index, patch) in patches.iter().enumerate() {
        let reach = patch.size.max(1);
        if !old_in_code(patch.old, patch.old.saturating_add(reach)) {
            return Err(invalid(format!(
                "entryPatches[{index}]: old function {:#x}..{:#x} is not inside loaded code; \
                 the table was computed for another build or slide",
                patch.old,
                patch.old.saturating_add(reach)
            )));
        }
        if !new_ok(patch.new) {
            return Err(invalid(format!(
                "entryPatches[{index}]: new address {:#x} is not inside the code of {lib}",
                patch.new
            )));
        }
        if patch.size < JUMP_LEN {
            plan.skipped += 1;
        } else {
            plan.writes.push(*patch);
        }
    }
    plan.writes.sort_unstable_by_key(|patch| patch.old);
    plan.writes.dedup();
    for pair in plan.writes.windows(2) {
        if pair[0].old == pair[1].old {
            return Err(invalid(format!(
                "entryPatches: old function {:#x} is patched to two places ({:#x} and {:#x})",
                pair[0].old, pair[0].new, pair[1].new
            )));
        }
        if pair[0].old + JUMP_LEN > pair[1].old {
            return Err(invalid(format!(
                "entryPatches: the jump at {:#x} would overwrite the start of the function at {:#x}",
                pair[0].old, pair[1].old
            )));
        }
    }
    Ok(plan)
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidTable, format!("invalid jump table: {message}"))
}

/// Code pages made writable for a set of entry patches (and for function starts whose original
/// bytes go back); writing happens through it, and dropping it puts `PROT_READ | PROT_EXEC` back.
pub(crate) struct WritablePages {
    /// Page-aligned `[start, end)` ranges, sorted and merged.
    ranges: Vec<(u64, u64)>,
}

impl WritablePages {
    /// Makes every page the `JUMP_LEN` bytes at each of `starts` touch writable (and still
    /// executable: the runtime itself, or another thread, may be running on those pages). On
    /// failure the pages already changed are restored and nothing has been written.
    pub(crate) fn open(starts: &[u64]) -> Result<WritablePages, Error> {
        let page = sys::page_size();
        let mut starts = starts.to_vec();
        starts.sort_unstable();
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for old in starts {
            let start = old & !(page - 1);
            let end = (old + JUMP_LEN + page - 1) & !(page - 1);
            match ranges.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => ranges.push((start, end)),
            }
        }
        let mut opened = WritablePages { ranges: Vec::with_capacity(ranges.len()) };
        for (start, end) in ranges {
            if let Err(err) = sys::protect(start, end - start, sys::PROT_READ | sys::PROT_WRITE | sys::PROT_EXEC) {
                // `opened` drops here and restores what it already holds.
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "cannot make code pages {start:#x}..{end:#x} writable for entry patching: mprotect failed: {err}; \
                         this system forbids writable code (SELinux execmod, PaX) — patch without --entry-patching"
                    ),
                ));
            }
            opened.ranges.push((start, end));
        }
        Ok(opened)
    }

    /// Writes the jumps. Every target page was made writable by [`WritablePages::open`].
    pub(crate) fn write(&self, writes: &[EntryPatch]) {
        for patch in writes {
            debug_assert!(self.ranges.iter().any(|&(s, e)| s <= patch.old && patch.old + JUMP_LEN <= e));
            let bytes = jump_bytes(patch.new);
            // SAFETY: `plan` checked that [old, old + JUMP_LEN) lies inside the function (size ≥
            // JUMP_LEN) and inside loaded code, and `open` made those pages writable.
            unsafe {
                originals::save_before_jump(patch.old);
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), patch.old as usize as *mut u8, bytes.len());
            }
            sys::flush_instruction_cache(patch.old, patch.old + JUMP_LEN);
        }
    }

    /// Writes back the original first bytes of each of `starts` (from [`to_restore`]: an earlier
    /// table jumped from there, the new one does not); how many were restored.
    pub(crate) fn restore(&self, starts: &[u64]) -> usize {
        let mut restored = 0;
        for &old in starts {
            debug_assert!(self.ranges.iter().any(|&(s, e)| s <= old && old + JUMP_LEN <= e));
            let bytes = match originals::take_for_restore(old) {
                Some(bytes) => bytes,
                None => continue,
            };
            // SAFETY: a jump was written at [old, old + JUMP_LEN) by an earlier table (checked
            // then to lie inside a loaded function), and `open` made those pages writable.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), old as usize as *mut u8, bytes.len()) };
            sys::flush_instruction_cache(old, old + JUMP_LEN);
            restored += 1;
        }
        restored
    }
}

impl Drop for WritablePages {
    fn drop(&mut self) {
        for &(start, end) in &self.ranges {
            // A page left writable after a failed restore weakens W^X of a dev build but leaves
            // the written jumps correct; there is nobody to report it to from a Drop.
            let _ = sys::protect(start, end - start, sys::PROT_READ | sys::PROT_EXEC);
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod sys {
    use std::ffi::c_void;
    use std::os::raw::{c_int, c_ulong};

    pub(super) const PROT_READ: c_int = 1;
    pub(super) const PROT_WRITE: c_int = 2;
    pub(super) const PROT_EXEC: c_int = 4;
    const AT_PAGESZ: c_ulong = 6;

    extern "C" {
        fn mprotect(addr: *mut c_void, len: usize, prot: c_int) -> c_int;
        fn getauxval(kind: c_ulong) -> c_ulong;
    }

    #[cfg(target_arch = "aarch64")]
    extern "C" {
        // libgcc / compiler-rt: cleans the data cache and invalidates the instruction cache.
        fn __clear_cache(begin: *mut std::os::raw::c_char, end: *mut std::os::raw::c_char);
    }

    pub(super) fn page_size() -> u64 {
        // SAFETY: getauxval only reads the auxiliary vector.
        let size = unsafe { getauxval(AT_PAGESZ) } as u64;
        if size.is_power_of_two() {
            size
        } else {
            4096
        }
    }

    pub(super) fn protect(start: u64, len: u64, prot: c_int) -> Result<(), std::io::Error> {
        // SAFETY: callers pass page-aligned ranges of mapped code and never remove PROT_EXEC.
        if unsafe { mprotect(start as usize as *mut c_void, len as usize, prot) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    #[cfg(target_arch = "aarch64")]
    pub(super) fn flush_instruction_cache(start: u64, end: u64) {
        // SAFETY: the range was just written and is mapped.
        unsafe { __clear_cache(start as usize as *mut _, end as usize as *mut _) }
    }

    /// x86 keeps instruction fetch coherent with stores; nothing to do.
    #[cfg(not(target_arch = "aarch64"))]
    pub(super) fn flush_instruction_cache(_start: u64, _end: u64) {}
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod sys {
    pub(super) const PROT_READ: i32 = 1;
    pub(super) const PROT_WRITE: i32 = 2;
    pub(super) const PROT_EXEC: i32 = 4;

    pub(super) fn page_size() -> u64 {
        4096
    }

    pub(super) fn protect(_start: u64, _len: u64, _prot: i32) -> Result<(), std::io::Error> {
        Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
    }

    pub(super) fn flush_instruction_cache(_start: u64, _end: u64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(old: u64, new: u64, size: u64) -> EntryPatch {
        EntryPatch { old, new, size }
    }

    #[test]
    fn plan_skips_small_functions_and_refuses_bad_addresses_before_writing() {
        let everywhere = |_: u64, _: u64| true;
        let plan = plan(&[patch(0x1000, 0x9000, 64), patch(0x2000, 0x9100, JUMP_LEN - 1)], everywhere, |_| true, "lib").unwrap();
        assert_eq!(plan.writes, vec![patch(0x1000, 0x9000, 64)]);
        assert_eq!(plan.skipped, 1);

        let err = super::plan(&[patch(0x1000, 0x9000, 64)], |start, _| start != 0x1000, |_| true, "lib").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidTable);
        assert!(err.message().contains("entryPatches[0]: old function 0x1000..0x1040"), "{err}");

        let err = super::plan(&[patch(0x1000, 0x9000, 64)], everywhere, |_| false, "/x/lib.so").unwrap_err();
        assert!(err.message().contains("new address 0x9000 is not inside the code of /x/lib.so"), "{err}");

        let err = super::plan(&[patch(0x1000, 0x9000, 64), patch(0x1000, 0x9100, 64)], everywhere, |_| true, "lib").unwrap_err();
        assert!(err.message().contains("patched to two places"), "{err}");

        let err = super::plan(&[patch(0x1000, 0x9000, 64), patch(0x1004, 0x9100, 64)], everywhere, |_| true, "lib").unwrap_err();
        assert!(err.message().contains("would overwrite the start of the function at 0x1004"), "{err}");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x86_64_jump_is_jmp_rip_indirect_then_the_address() {
        assert_eq!(
            jump_bytes(0x1122_3344_5566_7788),
            vec![0xff, 0x25, 0, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]
        );
        assert_eq!(jump_bytes(0).len() as u64, JUMP_LEN);
    }
}
