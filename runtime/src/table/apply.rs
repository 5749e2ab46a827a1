//! Applying a parsed table: loading its library, rebasing and checking every address against
//! the loaded code, then installing the routes and writing any entry patches.

use super::{install, invalid, Addressing, JumpTable, NewBase, Routes};
use crate::dl::{loaded_objects, Library, LoadedObject};
use crate::entry::{self, EntryPatch, WritablePages};
use crate::error::{Error, ErrorKind};
use std::sync::Mutex;

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
    /// Old functions an earlier table had jumping to new code that this table does not list (a
    /// revert, or the fat build's empty table): their original first bytes were written back.
    pub entry_patches_restored: usize,
    /// How long `dlopen` of the library took (the rest of `apply` is the table's checks and swap).
    pub load_time: std::time::Duration,
}

/// Serialises whole applications, so two threads applying at once cannot interleave their
/// dlopen and install steps (the later one simply wins).
static APPLY_LOCK: Mutex<()> = Mutex::new(());

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
    // The table replaces the previous one entirely: a start an earlier table jumped from that this
    // one does not list gets its own code back (plan.writes is sorted by old address).
    let kept: Vec<u64> = plan.writes.iter().map(|patch| patch.old).collect();
    let restores = entry::to_restore(&kept);
    let starts: Vec<u64> = kept.iter().chain(restores.iter()).copied().collect();
    // Writable before anything changes: if mprotect refuses, neither routes nor code changed.
    let pages = if starts.is_empty() { None } else { Some(WritablePages::open(&starts)?) };
    install(routes);
    let mut restored = 0;
    if let Some(pages) = pages {
        restored = pages.restore(&restores);
        pages.write(&plan.writes);
    }
    Ok(AppliedPatch {
        patch_id: table.patch_id,
        functions,
        library_base,
        entry_patches_written: plan.writes.len(),
        entry_patches_skipped: plan.skipped,
        entry_patches_restored: restored,
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
