//! The jump table: parsing the server's JSON, and the process-wide table that [`crate::call`]
//! consults.
//!
//! The installed table is an immutable sorted array behind an `AtomicPtr`. Applying a patch
//! builds a complete new array and swaps the pointer, so a reader sees either the old table or
//! the new one, never a mix. Old arrays are leaked on purpose: a reader on another thread may
//! still be searching one, and a few KB per patch is cheaper than any reclamation scheme.

use crate::dl::{loaded_objects, Library, LoadedObject};
use crate::entry::{self, EntryPatch, WritablePages};
use crate::error::{Error, ErrorKind};
use crate::json::{self, Value};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Where a table's *new* addresses are measured from, for tables in our own format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewBase {
    /// `"library"`: new addresses are offsets from the patch library's load base (its `st_value`s);
    /// the runtime adds the base the dynamic loader chose.
    Library,
    /// `"absolute"`: new addresses are already final runtime addresses.
    Absolute,
}

/// How a table's addresses are expressed (which of the two accepted JSON shapes it came from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// Whisker's shape: old addresses are runtime addresses in the process whose anchor is
    /// `aslr_reference`; new ones follow `new_base`.
    Slid { aslr_reference: u64, new_base: NewBase },
    /// subsecond's shape: old addresses are file addresses of the executable, whose `main` is at
    /// file address `main_file_address`; new ones are relative to `new_base_address` (the patch's
    /// `main`), or to the library's load base when `new_base_address` is 0.
    Subsecond { main_file_address: u64, new_base_address: u64 },
}

/// A parsed jump table: which patch library to load and which old function goes where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpTable {
    /// `patchId` (absent in subsecond's shape).
    pub patch_id: Option<u64>,
    /// `buildId` of the fat build the table was computed against.
    pub build_id: Option<String>,
    /// Path of the patch library to `dlopen`.
    pub lib: String,
    /// How `map` is to be read.
    pub addressing: Addressing,
    /// `(old, new)` pairs, as written in the JSON (not yet slid or rebased).
    pub map: Vec<(u64, u64)>,
    /// `entryPatches`: changed functions whose first bytes get a jump to their new code,
    /// addressed like `map` (not yet slid or rebased); empty unless the server was asked for
    /// entry patching.
    pub entry_patches: Vec<EntryPatch>,
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPatch {
    /// The table's `patchId`, if it had one.
    pub patch_id: Option<u64>,
    /// How many functions are now routed to new code.
    pub functions: usize,
    /// Where the dynamic loader mapped the patch library (0 if not needed to know).
    pub library_base: u64,
    /// Old functions whose first bytes now jump to their new code (`entryPatches`).
    pub entry_patches_written: usize,
    /// `entryPatches` left alone because the old function is shorter than the jump
    /// ([`crate::ENTRY_JUMP_LEN`] bytes); only hot calls reach their new code.
    pub entry_patches_skipped: usize,
    /// How long `dlopen` of the library took (the rest of `apply` is the table's checks and swap).
    pub load_time: std::time::Duration,
}

impl JumpTable {
    /// Parses either accepted shape (see `docs/architecture.md`):
    /// `{"patchId","buildId","lib","aslrReference","newBase","map":[["0xOLD","0xNEW"],…]}` or
    /// subsecond's `{"lib","map":{"<old>":<new>},"aslr_reference","new_base_address",…}`.
    pub fn from_json(text: &str) -> Result<JumpTable, Error> {
        JumpTable::from_value(&json::parse(text)?)
    }

    pub(crate) fn from_value(value: &Value) -> Result<JumpTable, Error> {
        if value.as_object().is_none() {
            return Err(invalid(format!("a jump table is a JSON object, got {}", value.type_name())));
        }
        let lib = match value.get("lib") {
            Some(Value::String(lib)) if !lib.is_empty() => lib.clone(),
            Some(Value::String(_)) => return Err(invalid("\"lib\" is empty; it must name the patch library")),
            Some(other) => return Err(invalid(format!("\"lib\" must be a string, got {}", other.type_name()))),
            None => return Err(invalid("missing \"lib\" (the path of the patch library)")),
        };
        let is_subsecond =
            value.get("aslr_reference").is_some() || matches!(value.get("map"), Some(Value::Object(_)));
        if is_subsecond {
            from_subsecond(value, lib)
        } else {
            from_whisker(value, lib)
        }
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidTable, format!("invalid jump table: {}", message.into()))
}

fn from_whisker(value: &Value, lib: String) -> Result<JumpTable, Error> {
    let patch_id = match value.get("patchId") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| invalid("\"patchId\" must be a non-negative integer"))?),
    };
    let build_id = match value.get("buildId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(invalid(format!("\"buildId\" must be a string, got {}", other.type_name()))),
    };
    let aslr_reference = match value.get("aslrReference") {
        Some(v) => address(v).map_err(|why| invalid(format!("\"aslrReference\" {why}")))?,
        None => return Err(invalid("missing \"aslrReference\" (the runtime address of `main` the table is for)")),
    };
    let new_base = match value.get("newBase") {
        None => NewBase::Library,
        Some(Value::String(s)) if s == "library" => NewBase::Library,
        Some(Value::String(s)) if s == "absolute" => NewBase::Absolute,
        Some(_) => return Err(invalid("\"newBase\" must be \"library\" or \"absolute\"")),
    };
    let entries = match value.get("map") {
        Some(Value::Array(entries)) => entries,
        Some(other) => return Err(invalid(format!("\"map\" must be an array of [old, new] pairs, got {}", other.type_name()))),
        None => return Err(invalid("missing \"map\"")),
    };
    let mut map = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let pair = match entry.as_array() {
            Some(pair) if pair.len() == 2 => pair,
            _ => return Err(invalid(format!("map[{index}] must be a two-element array [\"0xOLD\", \"0xNEW\"]"))),
        };
        let old = address(&pair[0]).map_err(|why| invalid(format!("map[{index}][0] {why}")))?;
        let new = address(&pair[1]).map_err(|why| invalid(format!("map[{index}][1] {why}")))?;
        map.push((old, new));
    }
    let entry_patches = entry_patches(value)?;
    Ok(JumpTable { patch_id, build_id, lib, addressing: Addressing::Slid { aslr_reference, new_base }, map, entry_patches })
}

/// `"entryPatches": [["0xOLD", "0xNEW", size], …]` (absent → none).
fn entry_patches(value: &Value) -> Result<Vec<EntryPatch>, Error> {
    let entries = match value.get("entryPatches") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            return Err(invalid(format!(
                "\"entryPatches\" must be an array of [old, new, size] triples, got {}",
                other.type_name()
            )))
        }
    };
    let mut patches = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let triple = match entry.as_array() {
            Some(triple) if triple.len() == 3 => triple,
            _ => return Err(invalid(format!("entryPatches[{index}] must be a three-element array [\"0xOLD\", \"0xNEW\", size]"))),
        };
        let old = address(&triple[0]).map_err(|why| invalid(format!("entryPatches[{index}][0] {why}")))?;
        let new = address(&triple[1]).map_err(|why| invalid(format!("entryPatches[{index}][1] {why}")))?;
        let size = match &triple[2] {
            Value::Number(_) => triple[2].as_u64(),
            _ => None,
        }
        .ok_or_else(|| invalid(format!("entryPatches[{index}][2] (the old function's size) must be a non-negative integer")))?;
        patches.push(EntryPatch { old, new, size });
    }
    Ok(patches)
}

fn from_subsecond(value: &Value, lib: String) -> Result<JumpTable, Error> {
    let main_file_address = match value.get("aslr_reference") {
        Some(v) => address(v).map_err(|why| invalid(format!("\"aslr_reference\" {why}")))?,
        None => return Err(invalid("missing \"aslr_reference\" (the file address of `main`)")),
    };
    let new_base_address = match value.get("new_base_address") {
        None | Some(Value::Null) => 0,
        Some(v) => address(v).map_err(|why| invalid(format!("\"new_base_address\" {why}")))?,
    };
    let members = match value.get("map") {
        Some(Value::Object(members)) => members,
        Some(other) => return Err(invalid(format!("\"map\" must be an object {{\"old\": new}}, got {}", other.type_name()))),
        None => return Err(invalid("missing \"map\"")),
    };
    let mut map = Vec::with_capacity(members.len());
    for (key, new) in members {
        let old = parse_address_text(key).map_err(|why| invalid(format!("map key {key:?} {why}")))?;
        let new = address(new).map_err(|why| invalid(format!("map[{key:?}] {why}")))?;
        map.push((old, new));
    }
    Ok(JumpTable {
        patch_id: None,
        build_id: None,
        lib,
        addressing: Addressing::Subsecond { main_file_address, new_base_address },
        map,
        entry_patches: entry_patches(value)?,
    })
}

/// An address written as `"0x…"` (our format), a decimal string (subsecond's map keys) or an
/// integer JSON number.
fn address(value: &Value) -> Result<u64, String> {
    match value {
        Value::String(text) => parse_address_text(text),
        Value::Number(_) => value.as_u64().ok_or_else(|| "must be a non-negative 64-bit integer".to_string()),
        other => Err(format!("must be a \"0x…\" hex string, got {}", other.type_name())),
    }
}

fn parse_address_text(text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.len() <= 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u64::from_str_radix(hex, 16).ok()
        }
        Some(_) => None,
        None if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text.parse::<u64>().ok(),
        None => None,
    };
    parsed.ok_or_else(|| format!("is not an address: {text:?} (expected \"0x\" and up to 16 hex digits)"))
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
/// Serialises whole applications, so two threads applying at once cannot interleave their
/// dlopen and install steps (the later one simply wins).
static APPLY_LOCK: Mutex<()> = Mutex::new(());

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

/// Parses a JumpTable JSON and applies it (see [`apply`]).
pub fn apply_json(json: &str) -> Result<(), Error> {
    apply(&JumpTable::from_json(json)?).map(|_| ())
}

/// Loads the table's library and installs its routes in place of the current ones.
///
/// Checks first that the table was computed for this process (`aslrReference`), then
/// `dlopen`s the library with `RTLD_NOW | RTLD_LOCAL`, rebases the new addresses, checks every
/// old address lies in loaded code and every new one in the library's code (or, for absolute
/// tables, in some loaded code), and swaps the table in atomically. The table replaces the
/// previous one entirely: the server always sends the complete map of a build.
///
/// With `entryPatches` (Linux/Android, x86_64/aarch64; elsewhere an `Unsupported` error), every
/// entry is checked like the map's (old function inside loaded code, new address in the library's
/// code), functions shorter than the jump are skipped, the code pages are made writable, and only
/// then are the routes installed and the jumps written; the pages go back to read + execute.
///
/// On error the previous table stays installed and no code was written. A library that loaded but
/// whose table was then refused stays mapped (unloading code is never safe here).
pub fn apply(table: &JumpTable) -> Result<AppliedPatch, Error> {
    let _guard = APPLY_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !table.entry_patches.is_empty() && !entry::SUPPORTED {
        return Err(entry::unsupported());
    }
    let ours = crate::aslr_reference();
    if let Addressing::Slid { aslr_reference, .. } = table.addressing {
        if aslr_reference != ours {
            return Err(Error::new(
                ErrorKind::AslrMismatch,
                format!(
                    "jump table is for aslrReference {aslr_reference:#x} but this process's is {ours:#x}; \
                     the table was computed for another process or build — ask for one slid for this process"
                ),
            ));
        }
    }
    if let Err(err) = std::fs::metadata(&table.lib) {
        return Err(Error::new(ErrorKind::Library, format!("patch library {} is not readable: {err}", table.lib)));
    }
    let load_started = std::time::Instant::now();
    let library = Library::open(&table.lib)?;
    let load_time = load_started.elapsed();

    let (old_offset, new_offset, library_base, new_is_in_library) = match table.addressing {
        Addressing::Slid { new_base: NewBase::Library, .. } => {
            let base = library.base()?;
            (0, base, base, true)
        }
        Addressing::Slid { new_base: NewBase::Absolute, .. } => (0, 0, 0, false),
        Addressing::Subsecond { main_file_address, new_base_address } => {
            let slide = ours.wrapping_sub(main_file_address);
            if new_base_address == 0 {
                let base = library.base()?;
                (slide, base, base, true)
            } else {
                let patch_main = library.symbol("main").ok_or_else(|| {
                    Error::new(
                        ErrorKind::Library,
                        format!("{} exports no `main`, which subsecond's new_base_address refers to", table.lib),
                    )
                })?;
                (slide, patch_main.wrapping_sub(new_base_address), 0, false)
            }
        }
    };

    let mut entries = Vec::with_capacity(table.map.len());
    for (index, &(old, new)) in table.map.iter().enumerate() {
        let old = old.wrapping_add(old_offset);
        let new = new.checked_add(new_offset).ok_or_else(|| {
            invalid(format!("map entry {index}: new address {new:#x} overflows when rebased by {new_offset:#x}"))
        })?;
        entries.push((old, new));
    }
    let objects = loaded_objects();
    check_targets(&objects, &entries, &table.lib, library_base, new_is_in_library)?;

    let mut entry_patches = Vec::with_capacity(table.entry_patches.len());
    for (index, patch) in table.entry_patches.iter().enumerate() {
        let new = patch.new.checked_add(new_offset).ok_or_else(|| {
            invalid(format!("entryPatches[{index}]: new address {:#x} overflows when rebased by {new_offset:#x}", patch.new))
        })?;
        entry_patches.push(EntryPatch { old: patch.old.wrapping_add(old_offset), new, size: patch.size });
    }
    let old_in_code = |start: u64, end: u64| {
        objects.iter().any(|object| object.code.iter().any(|&(low, high)| low <= start && end <= high))
    };
    let new_ok = |address: u64| new_is_valid(&objects, address, library_base, new_is_in_library);
    let plan = entry::plan(&entry_patches, old_in_code, new_ok, &table.lib)?;

    let routes = Routes::new(entries)?;
    let functions = routes.len();
    // Writable before anything changes: if mprotect refuses, neither routes nor code changed.
    let pages = if plan.writes.is_empty() { None } else { Some(WritablePages::open(&plan.writes)?) };
    install(routes);
    if let Some(pages) = pages {
        pages.write(&plan.writes);
    }
    Ok(AppliedPatch {
        patch_id: table.patch_id,
        functions,
        library_base,
        entry_patches_written: plan.writes.len(),
        entry_patches_skipped: plan.skipped,
        load_time,
    })
}

/// Whether `address` is acceptable new code: inside the library's code, or (absolute tables)
/// inside any loaded code. Where the loader cannot be asked, everything is accepted.
fn new_is_valid(objects: &[LoadedObject], address: u64, library_base: u64, new_is_in_library: bool) -> bool {
    if objects.is_empty() {
        return true;
    }
    if new_is_in_library {
        objects
            .iter()
            .filter(|object| object.base == library_base && !object.name.is_empty())
            .any(|object| object.contains_code(address))
    } else {
        objects.iter().any(|object| object.contains_code(address))
    }
}

/// Refuses tables that would jump outside code: the cheapest guard against a table made for
/// another build, a wrong slide or a forgotten base, all of which would otherwise crash later.
fn check_targets(
    objects: &[LoadedObject],
    entries: &[(u64, u64)],
    lib: &str,
    library_base: u64,
    new_is_in_library: bool,
) -> Result<(), Error> {
    if objects.is_empty() {
        return Ok(()); // this platform cannot list loaded objects
    }
    let in_any_code = |address: u64| objects.iter().any(|object| object.contains_code(address));
    for (index, &(old, new)) in entries.iter().enumerate() {
        if !in_any_code(old) {
            return Err(invalid(format!(
                "map entry {index}: old address {old:#x} is not inside any loaded code; \
                 the table was computed for another build or slide"
            )));
        }
        if !new_is_valid(objects, new, library_base, new_is_in_library) {
            return Err(invalid(format!(
                "map entry {index}: new address {new:#x} is not inside the code of {lib}{}",
                if new_is_in_library { " (is \"newBase\" right?)" } else { " or any loaded object" }
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
