//! Reading a jump table from the server's JSON, in either accepted shape (Whisker's own and
//! subsecond's), with errors that name the offending field.

use super::invalid;
use crate::entry::EntryPatch;
use crate::error::Error;
use crate::json::{self, Value};

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
