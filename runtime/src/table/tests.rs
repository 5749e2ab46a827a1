//! Unit tests of parsing and routing, and of the refusals `apply` makes before loading anything;
//! real patch libraries are applied in `tests/load_library.rs` and `tests/entry_patching.rs`.

use super::{apply_json, Addressing, JumpTable, NewBase, Routes};
use crate::entry::EntryPatch;
use crate::error::ErrorKind;
use crate::json;

fn table_json(aslr: u64, lib: &str, map: &str) -> String {
    format!(r#"{{"patchId": 7, "buildId": "b1", "lib": {}, "aslrReference": "{aslr:#x}", "newBase": "library", "map": {map}}}"#, json::quote(lib))
}

#[test]
fn parses_whisker_shape() {
    let text = r#"{"patchId": 3, "buildId": "b20261125-061500-a1b2c3", "lib": "/tmp/libp.so",
        "aslrReference": "0x55d0c0a01234", "newBase": "library",
        "map": [["0x55d0c0a05670", "0x1a2b0"], ["0x55D0C0A05680", "0X1A2C0"]]}"#;
    let table = JumpTable::from_json(text).unwrap();
    assert_eq!(table.patch_id, Some(3));
    assert_eq!(table.build_id.as_deref(), Some("b20261125-061500-a1b2c3"));
    assert_eq!(table.lib, "/tmp/libp.so");
    assert_eq!(table.addressing, Addressing::Slid { aslr_reference: 0x55d0c0a01234, new_base: NewBase::Library });
    assert_eq!(table.map, vec![(0x55d0c0a05670, 0x1a2b0), (0x55d0c0a05680, 0x1a2c0)]);

    let absolute = r#"{"lib": "/x.so", "aslrReference": "0x10", "newBase": "absolute", "map": [], "extra": {"ignored": true}}"#;
    let table = JumpTable::from_json(absolute).unwrap();
    assert_eq!(table.patch_id, None);
    assert_eq!(table.addressing, Addressing::Slid { aslr_reference: 0x10, new_base: NewBase::Absolute });
}

#[test]
fn parses_entry_patches_and_defaults_to_none() {
    let text = r#"{"lib": "/tmp/libp.so", "aslrReference": "0x10", "map": [],
        "entryPatches": [["0x55d0c0a05670", "0x1a2b0", 112], ["0x55d0c0a05700", "0x1a300", 9]]}"#;
    let table = JumpTable::from_json(text).unwrap();
    assert_eq!(
        table.entry_patches,
        vec![
            EntryPatch { old: 0x55d0c0a05670, new: 0x1a2b0, size: 112 },
            EntryPatch { old: 0x55d0c0a05700, new: 0x1a300, size: 9 },
        ]
    );
    let without = JumpTable::from_json(r#"{"lib": "/x", "aslrReference": "0x10", "map": []}"#).unwrap();
    assert!(without.entry_patches.is_empty());
}

#[test]
fn parses_subsecond_shape() {
    let text = r#"{"lib": "/tmp/libp.so", "map": {"4660": 4096, "0x1235": 8192},
        "aslr_reference": 1193046, "new_base_address": 0, "ifunc_count": 0}"#;
    let table = JumpTable::from_json(text).unwrap();
    assert_eq!(table.addressing, Addressing::Subsecond { main_file_address: 1193046, new_base_address: 0 });
    assert_eq!(table.map, vec![(4660, 4096), (0x1235, 8192)]);
}

#[test]
fn rejects_malformed_tables_with_the_field_named() {
    let cases = [
        ("[]", "JSON object"),
        (r#"{"aslrReference": "0x1", "map": []}"#, "missing \"lib\""),
        (r#"{"lib": "", "aslrReference": "0x1", "map": []}"#, "\"lib\" is empty"),
        (r#"{"lib": 5, "aslrReference": "0x1", "map": []}"#, "\"lib\" must be a string"),
        (r#"{"lib": "/x", "map": []}"#, "missing \"aslrReference\""),
        (r#"{"lib": "/x", "aslrReference": "main", "map": []}"#, "\"aslrReference\" is not an address"),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": []  , "newBase": "relative"}"#, "\"newBase\""),
        (r#"{"lib": "/x", "aslrReference": "0x1"}"#, "missing \"map\""),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": 3}"#, "\"map\" must be an array"),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": [["0x1"]]}"#, "map[0] must be a two-element array"),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": [["0x1", "0x"]]}"#, "map[0][1] is not an address"),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": [["0x1", "0x12345678901234567"]]}"#, "map[0][1]"),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": [["0x1", -4]]}"#, "map[0][1] must be a non-negative"),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": [], "patchId": "3"}"#, "\"patchId\""),
        (r#"{"lib": "/x", "aslr_reference": 1, "map": {"zz": 1}}"#, "map key \"zz\""),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": [], "entryPatches": {}}"#, "\"entryPatches\" must be an array"),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": [], "entryPatches": [["0x1", "0x2"]]}"#, "entryPatches[0] must be a three-element"),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": [], "entryPatches": [["0x1", "zz", 3]]}"#, "entryPatches[0][1] is not an address"),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": [], "entryPatches": [["0x1", "0x2", "16"]]}"#, "entryPatches[0][2]"),
        (r#"{"lib": "/x", "aslrReference": "0x1", "map": [], "entryPatches": [["0x1", "0x2", 1.5]]}"#, "entryPatches[0][2]"),
    ];
    for (text, needle) in cases {
        let err = JumpTable::from_json(text).expect_err(text);
        assert_eq!(err.kind(), ErrorKind::InvalidTable, "{text}");
        assert!(err.message().contains(needle), "{text}: {err}");
    }
}

#[test]
fn routes_look_up_sorted_entries_and_refuse_conflicts() {
    let routes = Routes::new(vec![(30, 3), (10, 1), (20, 2), (10, 1)]).unwrap();
    assert_eq!(routes.len(), 3);
    assert_eq!(routes.lookup(10), Some(1));
    assert_eq!(routes.lookup(20), Some(2));
    assert_eq!(routes.lookup(30), Some(3));
    assert_eq!(routes.lookup(15), None);
    assert_eq!(routes.lookup(0), None);
    let err = Routes::new(vec![(10, 1), (10, 2)]).unwrap_err();
    assert!(err.message().contains("routed to two places"), "{err}");
}

#[test]
fn apply_json_reports_bad_json() {
    let err = apply_json("{\"lib\": ").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Json);
}

#[test]
fn apply_json_refuses_a_table_for_another_process() {
    let ours = crate::aslr_reference();
    let other = ours ^ 0x1000;
    let err = apply_json(&table_json(other, "/tmp/whatever.so", "[]")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AslrMismatch);
    assert!(err.message().contains(&format!("{other:#x}")), "{err}");
    assert!(err.message().contains(&format!("{ours:#x}")), "{err}");
}

#[test]
fn apply_json_reports_a_missing_library() {
    let lib = "/nonexistent/whisker-hot/libwhisker-patch-1-abcdef.so";
    let err = apply_json(&table_json(crate::aslr_reference(), lib, "[]")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Library);
    assert!(err.message().contains(lib), "{err}");
}

#[test]
fn apply_json_passes_on_the_loaders_complaint_about_a_non_library() {
    let path = std::env::temp_dir().join(format!("whisker-hot-not-a-lib-{}.so", std::process::id()));
    std::fs::write(&path, b"this is not an ELF file at all, just text").unwrap();
    let err = apply_json(&table_json(crate::aslr_reference(), path.to_str().unwrap(), "[]")).unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert_eq!(err.kind(), ErrorKind::Library);
    assert!(err.message().contains("cannot load patch library"), "{err}");
    assert!(err.message().contains("invalid ELF header") || err.message().contains("too short"), "{err}");
}
