//! Entry patching against the test binary's own code: a jump written at the start of a function
//! makes its *direct* callers (not only hot calls) run the new code. One test function: the code
//! rewrite and the jump table are process-wide state.
#![cfg(all(any(target_os = "linux", target_os = "android"), any(target_arch = "x86_64", target_arch = "aarch64")))]

mod support;

use support::black_box;
use whisker_hot::{apply, apply_json, ErrorKind, JumpTable, ENTRY_JUMP_LEN};

/// The code "before the edit", called directly and through a pointer below. `no_mangle` gives
/// llvm-nm a plain name to report its size under.
#[no_mangle]
#[inline(never)]
pub fn whisker_entry_old(x: u64) -> u64 {
    let mut total = x;
    for step in 0..black_box(3u64) {
        total = total.wrapping_mul(7).wrapping_add(step);
    }
    total
}

/// Stands in for new code that already lives in the executable (`"newBase": "absolute"`).
#[inline(never)]
fn absolute_replacement(x: u64) -> u64 {
    x + 1000
}

/// Too small for the jump on purpose (its size is given as one byte in the table).
#[no_mangle]
#[inline(never)]
pub fn whisker_entry_tiny(x: u64) -> u64 {
    x ^ 1
}

fn replacement_source(add: u64) -> String {
    format!("#[no_mangle]\npub fn replacement(x: u64) -> u64 {{ x + {add} }}\n")
}

fn table(patch: u64, lib: &std::path::Path, new_base: &str, entries: &[(u64, u64, u64)]) -> String {
    let entries: Vec<String> = entries.iter().map(|(old, new, size)| format!(r#"["{old:#x}", "{new:#x}", {size}]"#)).collect();
    format!(
        r#"{{"patchId": {patch}, "buildId": "b-test", "lib": "{}", "aslrReference": "{:#x}", "newBase": "{new_base}", "map": [], "entryPatches": [{}]}}"#,
        lib.display(),
        whisker_hot::aslr_reference(),
        entries.join(", ")
    )
}

fn direct(x: u64) -> u64 {
    whisker_entry_old(black_box(x))
}

fn through_pointer(x: u64) -> u64 {
    let function: fn(u64) -> u64 = black_box(whisker_entry_old);
    function(black_box(x))
}

#[test]
fn entry_patches_make_direct_callers_run_the_new_code() {
    let dir = support::temp_dir("entry");
    let lib2000 = support::compile_cdylib(&dir, "replacement2000", &replacement_source(2000));
    let lib3000 = support::compile_cdylib(&dir, "replacement3000", &replacement_source(3000));
    let exe = std::env::current_exe().unwrap();
    let old = whisker_entry_old as *const () as usize as u64;
    let size = support::nm_size(&exe, "whisker_entry_old");
    assert!(size >= ENTRY_JUMP_LEN, "the test function ({size} bytes) must fit the {ENTRY_JUMP_LEN}-byte jump");
    let original = (direct(5), through_pointer(5));
    assert_eq!(original.0, original.1);
    assert_ne!(original.0, 1005);

    // A bad entry is refused before anything is written.
    let err = apply_json(&table(1, &lib2000, "absolute", &[(0x10, old, 64)])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTable);
    assert!(err.message().contains("entryPatches[0]: old function 0x10"), "{err}");
    let offset2000 = support::nm_address(&lib2000, "replacement");
    let err = apply_json(&table(1, &lib2000, "library", &[(old, offset2000, size), (old + 4, offset2000, size)])).unwrap_err();
    assert!(err.message().contains("would overwrite the start"), "{err}");
    assert_eq!((direct(5), through_pointer(5)), original, "a refused table wrote nothing");

    // Absolute: the old function now jumps to another function of the executable.
    let absolute = absolute_replacement as *const () as usize as u64;
    let applied = apply(&JumpTable::from_json(&table(1, &lib2000, "absolute", &[(old, absolute, size)])).unwrap()).unwrap();
    assert_eq!((applied.entry_patches_written, applied.entry_patches_skipped), (1, 0));
    assert_eq!(direct(5), 1005, "a direct caller runs the new code");
    assert_eq!(through_pointer(5), 1005, "so does a call through a function pointer");

    // Library-relative: into a patch library; a function too small for the jump is skipped and
    // keeps its code.
    let tiny = whisker_entry_tiny as *const () as usize as u64;
    let applied = apply(
        &JumpTable::from_json(&table(2, &lib2000, "library", &[(old, offset2000, size), (tiny, offset2000, 1)])).unwrap(),
    )
    .unwrap();
    assert_eq!((applied.entry_patches_written, applied.entry_patches_skipped), (1, 1));
    assert_eq!((direct(5), through_pointer(5)), (2005, 2005));
    assert_eq!(whisker_entry_tiny(black_box(4)), 5, "the skipped function is untouched");

    // Chained: the same old function changed again goes to the newest code.
    let offset3000 = support::nm_address(&lib3000, "replacement");
    let applied = apply(&JumpTable::from_json(&table(3, &lib3000, "library", &[(old, offset3000, size)])).unwrap()).unwrap();
    assert_eq!(applied.entry_patches_written, 1);
    assert_eq!((direct(5), through_pointer(5)), (3005, 3005));

    // A revert to patch 2's table: the jump goes back to patch 2's code.
    let applied = apply(&JumpTable::from_json(&table(4, &lib2000, "library", &[(old, offset2000, size)])).unwrap()).unwrap();
    assert_eq!((applied.entry_patches_written, applied.entry_patches_restored), (1, 0));
    assert_eq!((direct(5), through_pointer(5)), (2005, 2005));

    // Back to the fat build: an empty map and no entry patches restore the original first bytes.
    let applied = apply(&JumpTable::from_json(&table(5, &lib2000, "library", &[])).unwrap()).unwrap();
    assert_eq!((applied.functions, applied.entry_patches_written, applied.entry_patches_restored), (0, 0, 1));
    assert_eq!((direct(5), through_pointer(5)), original, "the old function runs its own code again");
    assert_eq!(whisker_entry_tiny(black_box(4)), 5);
    let applied = apply(&JumpTable::from_json(&table(6, &lib2000, "library", &[])).unwrap()).unwrap();
    assert_eq!(applied.entry_patches_restored, 0, "nothing is restored twice");
    assert_eq!((direct(5), through_pointer(5)), original);

    // Patched again after the restore: the bytes saved first are still the fat build's.
    let applied = apply(&JumpTable::from_json(&table(7, &lib3000, "library", &[(old, offset3000, size)])).unwrap()).unwrap();
    assert_eq!(applied.entry_patches_written, 1);
    assert_eq!((direct(5), through_pointer(5)), (3005, 3005));
    let applied = apply(&JumpTable::from_json(&table(8, &lib3000, "library", &[])).unwrap()).unwrap();
    assert_eq!(applied.entry_patches_restored, 1);
    assert_eq!((direct(5), through_pointer(5)), original);

    // The code pages are read + execute again, not left writable.
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let page = maps
        .lines()
        .find(|line| {
            let range = line.split_whitespace().next().unwrap_or("");
            let (low, high) = range.split_once('-').unwrap_or(("0", "0"));
            let (low, high) = (u64::from_str_radix(low, 16).unwrap_or(0), u64::from_str_radix(high, 16).unwrap_or(0));
            low <= old && old < high
        })
        .expect("the old function's page is mapped");
    assert!(page.contains(" r-xp "), "{page}");

    let _ = std::fs::remove_dir_all(dir);
}
