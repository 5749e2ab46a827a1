//! The dynamic loader, declared by hand (std only): open a patch library, find where it was
//! mapped, and list the code segments of every loaded object so a table's addresses can be
//! checked before anything jumps to them.

use crate::error::{Error, ErrorKind};
use std::ffi::{c_void, CStr, CString};
use std::os::raw::{c_char, c_int};

// glibc ≥ 2.34 has these in libc itself; bionic keeps them in libdl.
#[cfg_attr(target_os = "android", link(name = "dl"))]
extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *mut c_char;
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" {
    fn dlinfo(handle: *mut c_void, request: c_int, info: *mut c_void) -> c_int;
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[cfg_attr(target_os = "android", link(name = "dl"))]
extern "C" {
    fn dl_iterate_phdr(
        callback: unsafe extern "C" fn(info: *mut DlPhdrInfo, size: usize, data: *mut c_void) -> c_int,
        data: *mut c_void,
    ) -> c_int;
}

#[cfg(any(target_os = "macos", target_os = "ios"))]
const RTLD_NOW: c_int = 0x2;
#[cfg(any(target_os = "macos", target_os = "ios"))]
const RTLD_LOCAL: c_int = 0x4;
#[cfg(all(target_os = "android", target_pointer_width = "32"))]
const RTLD_NOW: c_int = 0x0;
#[cfg(not(any(target_os = "macos", target_os = "ios", all(target_os = "android", target_pointer_width = "32"))))]
const RTLD_NOW: c_int = 0x2;
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
const RTLD_LOCAL: c_int = 0x0;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
const RTLD_DI_LINKMAP: c_int = 2;

/// The first field of glibc's `struct link_map`, the only one read.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[repr(C)]
struct LinkMap {
    l_addr: usize,
}

/// The start of `struct dl_phdr_info` (the fields after `dlpi_phnum` are not read).
#[cfg(any(target_os = "linux", target_os = "android"))]
#[repr(C)]
struct DlPhdrInfo {
    dlpi_addr: usize,
    dlpi_name: *const c_char,
    dlpi_phdr: *const c_void,
    dlpi_phnum: u16,
}

/// A loaded patch library. It is never closed: code from it may be running or referenced by an
/// installed table at any time, and unloading would turn those into dangling jumps.
pub(crate) struct Library {
    handle: *mut c_void,
    path: String,
}

fn last_dl_error() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string owned by the loader (thread-local
    // in glibc and bionic); it is copied out immediately.
    unsafe {
        let message = dlerror();
        if message.is_null() {
            "unknown dynamic loader error".to_string()
        } else {
            CStr::from_ptr(message).to_string_lossy().into_owned()
        }
    }
}

impl Library {
    /// `dlopen(path, RTLD_NOW | RTLD_LOCAL)`: every symbol is bound now, so a patch that needs
    /// something the process lacks fails here, not later in the middle of a call.
    pub(crate) fn open(path: &str) -> Result<Library, Error> {
        let c_path = CString::new(path).map_err(|_| {
            Error::new(ErrorKind::Library, format!("patch library path {path:?} contains a NUL byte"))
        })?;
        // SAFETY: c_path is a valid C string; dlerror() first clears a stale error.
        let handle = unsafe {
            dlerror();
            dlopen(c_path.as_ptr(), RTLD_NOW | RTLD_LOCAL)
        };
        if handle.is_null() {
            return Err(Error::new(
                ErrorKind::Library,
                format!("cannot load patch library {path}: {}", last_dl_error()),
            ));
        }
        Ok(Library { handle, path: path.to_string() })
    }

    /// The runtime address of `name` in this library (or a library it depends on).
    pub(crate) fn symbol(&self, name: &str) -> Option<u64> {
        let c_name = CString::new(name).ok()?;
        // SAFETY: handle came from a successful dlopen and is never closed.
        let address = unsafe { dlsym(self.handle, c_name.as_ptr()) };
        if address.is_null() {
            None
        } else {
            Some(address as usize as u64)
        }
    }

    /// The load base the dynamic loader chose: runtime address = base + `st_value` in the file.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub(crate) fn base(&self) -> Result<u64, Error> {
        let mut map: *mut LinkMap = std::ptr::null_mut();
        // SAFETY: RTLD_DI_LINKMAP writes a `struct link_map *` to the pointer passed.
        let status = unsafe { dlinfo(self.handle, RTLD_DI_LINKMAP, (&mut map as *mut *mut LinkMap).cast()) };
        if status != 0 || map.is_null() {
            return Err(Error::new(
                ErrorKind::Library,
                format!("cannot read the load base of {}: {}", self.path, last_dl_error()),
            ));
        }
        // SAFETY: the loader keeps the link_map alive while the library stays loaded (forever).
        Ok(unsafe { (*map).l_addr } as u64)
    }

    /// Without `dlinfo` (musl, bionic), look the library up in the loader's list by the path it
    /// was opened with.
    #[cfg(all(any(target_os = "linux", target_os = "android"), not(all(target_os = "linux", target_env = "gnu"))))]
    pub(crate) fn base(&self) -> Result<u64, Error> {
        loaded_objects()
            .into_iter()
            .find(|object| object.name == self.path)
            .map(|object| object.base)
            .ok_or_else(|| {
                Error::new(ErrorKind::Library, format!("the loader does not list {} after loading it", self.path))
            })
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(crate) fn base(&self) -> Result<u64, Error> {
        Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "cannot read the load base of {} on this OS; ask the server for a table with \"newBase\": \"absolute\"",
                self.path
            ),
        ))
    }
}

/// One object mapped into the process (the executable has an empty name) and its code.
#[derive(Debug, Clone)]
pub(crate) struct LoadedObject {
    pub(crate) name: String,
    pub(crate) base: u64,
    /// Runtime `[start, end)` ranges of its executable `PT_LOAD` segments.
    pub(crate) code: Vec<(u64, u64)>,
}

impl LoadedObject {
    pub(crate) fn contains_code(&self, address: u64) -> bool {
        self.code.iter().any(|&(start, end)| start <= address && address < end)
    }
}

/// Every object the loader has mapped, or an empty list where that cannot be asked.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn loaded_objects() -> Vec<LoadedObject> {
    const PT_LOAD: u32 = 1;
    const PF_X: u32 = 1;

    unsafe extern "C" fn visit(info: *mut DlPhdrInfo, _size: usize, data: *mut c_void) -> c_int {
        // SAFETY: the loader passes a valid dl_phdr_info for the duration of the callback and
        // `data` is the Vec handed to dl_iterate_phdr below.
        let (info, objects) = unsafe { (&*info, &mut *(data as *mut Vec<LoadedObject>)) };
        let name = if info.dlpi_name.is_null() {
            String::new()
        } else {
            unsafe { CStr::from_ptr(info.dlpi_name) }.to_string_lossy().into_owned()
        };
        let base = info.dlpi_addr as u64;
        let mut code = Vec::new();
        for index in 0..usize::from(info.dlpi_phnum) {
            let (p_type, p_flags, p_vaddr, p_memsz) = match unsafe { program_header(info.dlpi_phdr, index) } {
                Some(header) => header,
                None => continue,
            };
            if p_type == PT_LOAD && p_flags & PF_X != 0 {
                let start = base.wrapping_add(p_vaddr);
                code.push((start, start.saturating_add(p_memsz)));
            }
        }
        objects.push(LoadedObject { name, base, code });
        0
    }

    let mut objects: Vec<LoadedObject> = Vec::new();
    // SAFETY: `visit` only touches what it is given; the Vec outlives the call.
    unsafe { dl_iterate_phdr(visit, (&mut objects as *mut Vec<LoadedObject>).cast()) };
    objects
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn loaded_objects() -> Vec<LoadedObject> {
    Vec::new()
}

/// `(p_type, p_flags, p_vaddr, p_memsz)` of program header `index` (ELF64 layout).
#[cfg(all(any(target_os = "linux", target_os = "android"), target_pointer_width = "64"))]
unsafe fn program_header(table: *const c_void, index: usize) -> Option<(u32, u32, u64, u64)> {
    #[repr(C)]
    struct Phdr {
        p_type: u32,
        p_flags: u32,
        p_offset: u64,
        p_vaddr: u64,
        p_paddr: u64,
        p_filesz: u64,
        p_memsz: u64,
        p_align: u64,
    }
    if table.is_null() {
        return None;
    }
    let header = unsafe { &*(table as *const Phdr).add(index) };
    Some((header.p_type, header.p_flags, header.p_vaddr, header.p_memsz))
}

/// `(p_type, p_flags, p_vaddr, p_memsz)` of program header `index` (ELF32 layout).
#[cfg(all(any(target_os = "linux", target_os = "android"), target_pointer_width = "32"))]
unsafe fn program_header(table: *const c_void, index: usize) -> Option<(u32, u32, u64, u64)> {
    #[repr(C)]
    struct Phdr {
        p_type: u32,
        p_offset: u32,
        p_vaddr: u32,
        p_paddr: u32,
        p_filesz: u32,
        p_memsz: u32,
        p_flags: u32,
        p_align: u32,
    }
    if table.is_null() {
        return None;
    }
    let header = unsafe { &*(table as *const Phdr).add(index) };
    Some((header.p_type, header.p_flags, u64::from(header.p_vaddr), u64::from(header.p_memsz)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loader_lists_the_executable_with_its_code() {
        let objects = loaded_objects();
        let here = loaded_objects as *const () as usize as u64;
        let owner = objects.iter().find(|o| o.contains_code(here));
        let owner = owner.expect("the test binary's own code is in some executable segment");
        assert_eq!(owner.name, "", "the main executable is listed with an empty name");
        let main_address = crate::aslr_reference();
        assert!(owner.contains_code(main_address), "main lives in the executable's code");
    }

    #[test]
    fn opening_a_missing_library_reports_dlerror() {
        let err = Library::open("/nonexistent/whisker/libnope.so").err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Library);
        assert!(err.message().contains("/nonexistent/whisker/libnope.so"), "{err}");
        assert!(err.message().contains("No such file"), "{err}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn base_from_dlinfo_agrees_with_the_loader_list() {
        // libc is already loaded; dlopen of it just hands back the existing handle.
        let lib = Library::open("libc.so.6").unwrap();
        let base = lib.base().unwrap();
        let printf = lib.symbol("printf").unwrap();
        let owner = loaded_objects().into_iter().find(|o| o.contains_code(printf)).unwrap();
        assert_eq!(owner.base, base);
        assert!(owner.name.contains("libc.so.6"), "{}", owner.name);
    }
}
