//! Real patch libraries, compiled by rustc in the test, loaded with `apply_json`, and reached
//! through `whisker_hot::call`. One test function: the jump table is process-wide state.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use whisker_hot::{apply_json, call, hot_fn_address, patch_count, resolve, ErrorKind};

/// The code "before the edit".
#[inline(never)]
fn local_answer() -> u64 {
    1
}

/// Stands in for new code that already lives in the executable (for `"newBase": "absolute"`).
#[inline(never)]
fn absolute_replacement(env: &mut &mut u64) -> u64 {
    **env += 1000;
    7
}

/// The hot call site: always the same closure type, capturing the caller's counter.
fn site(counter: &mut u64) -> impl FnMut() -> u64 + '_ {
    move || {
        *counter += 1;
        local_answer()
    }
}

/// A patch library whose `answer` has the trampoline's signature (`fn(&mut F) -> u64`, where the
/// closure `F` is one `&mut u64`) and proves it got the caller's state by bumping it by 100.
fn patch_source(value: u64) -> String {
    format!("#[no_mangle]\npub fn answer(env: &mut &mut u64) -> u64 {{ **env += 100; {value} }}\n")
}

fn whisker_table(patch: u64, lib: &std::path::Path, new_base: &str, old: u64, new: u64) -> String {
    format!(
        r#"{{"patchId": {patch}, "buildId": "b-test", "lib": "{}", "aslrReference": "{:#x}", "newBase": "{new_base}", "map": [["{old:#x}", "{new:#x}"]]}}"#,
        lib.display(),
        whisker_hot::aslr_reference()
    )
}

#[test]
fn patches_route_hot_calls_into_loaded_libraries() {
    let dir = support::temp_dir("load");
    let lib42 = support::compile_cdylib(&dir, "answer42", &patch_source(42));
    let lib43 = support::compile_cdylib(&dir, "answer43", &patch_source(43));
    let lib44 = support::compile_cdylib(&dir, "answer44", &patch_source(44));
    let mut counter = 0u64;
    let key = hot_fn_address(&site(&mut counter));

    // Before any patch: the original code runs.
    assert_eq!(call(site(&mut counter)), 1);
    assert_eq!((counter, patch_count(), resolve(key)), (1, 0, None));

    // Patch 1: the library's function runs, with the caller's state.
    let offset42 = support::nm_address(&lib42, "answer");
    apply_json(&whisker_table(1, &lib42, "library", key, offset42)).unwrap();
    assert_eq!(patch_count(), 1);
    assert_eq!(call(site(&mut counter)), 42);
    assert_eq!(counter, 101, "the patched code got the caller's captured state");
    let routed = resolve(key).unwrap();
    let base = routed - offset42;
    assert_eq!(base % 4096, 0, "new address = page-aligned load base + st_value ({routed:#x})");

    // Patch 2 replaces patch 1.
    let offset43 = support::nm_address(&lib43, "answer");
    apply_json(&whisker_table(2, &lib43, "library", key, offset43)).unwrap();
    assert_eq!((call(site(&mut counter)), patch_count()), (43, 2));

    // A table pointing outside the library's code is refused and the current one stays.
    let err = apply_json(&whisker_table(3, &lib43, "library", key, 0x4000_0000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTable);
    assert!(err.message().contains("is not inside the code of"), "{err}");
    let err = apply_json(&whisker_table(3, &lib43, "library", 0x10, offset43)).unwrap_err();
    assert!(err.message().contains("old address 0x10 is not inside any loaded code"), "{err}");
    assert_eq!((call(site(&mut counter)), patch_count()), (43, 2));

    // "absolute": new addresses are final runtime addresses.
    let absolute = absolute_replacement as *const () as usize as u64;
    apply_json(&whisker_table(4, &lib43, "absolute", key, absolute)).unwrap();
    let before = counter;
    assert_eq!(call(site(&mut counter)), 7);
    assert_eq!(counter, before + 1000);

    // subsecond's shape: keys are file addresses of the executable, values library offsets.
    let exe = std::env::current_exe().unwrap();
    let main_file_address = support::nm_address(&exe, "main");
    let slide = whisker_hot::aslr_reference() - main_file_address;
    let offset44 = support::nm_address(&lib44, "answer");
    let subsecond = format!(
        r#"{{"lib": "{}", "map": {{"{}": {offset44}}}, "aslr_reference": {main_file_address}, "new_base_address": 0, "ifunc_count": 0}}"#,
        lib44.display(),
        key - slide
    );
    apply_json(&subsecond).unwrap();
    assert_eq!((call(site(&mut counter)), patch_count()), (44, 4));

    // An empty map routes nothing: the original code runs again.
    apply_json(&format!(r#"{{"patchId": 6, "lib": "{}", "aslrReference": "{:#x}", "map": []}}"#, lib44.display(), whisker_hot::aslr_reference())).unwrap();
    assert_eq!(call(site(&mut counter)), 1);

    // Readers on another thread see whole tables while patches swap underneath them.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut own = 0u64;
            let mut seen = std::collections::BTreeSet::new();
            let mut calls = 0u64;
            while !stop.load(Ordering::Relaxed) || calls < 1000 {
                seen.insert(call(site(&mut own)));
                calls += 1;
            }
            seen
        })
    };
    for round in 0..200u64 {
        let (lib, offset) = if round % 2 == 0 { (&lib42, offset42) } else { (&lib43, offset43) };
        apply_json(&whisker_table(10 + round, lib, "library", key, offset)).unwrap();
        std::thread::sleep(Duration::from_micros(200));
    }
    stop.store(true, Ordering::Relaxed);
    let seen = reader.join().expect("the reader thread never crashed");
    assert!(seen.iter().all(|value| [1, 42, 43].contains(value)), "{seen:?}");
    assert!(seen.contains(&42) && seen.contains(&43), "both tables were seen: {seen:?}");
    assert_eq!(patch_count(), 205);

    let _ = std::fs::remove_dir_all(dir);
}
