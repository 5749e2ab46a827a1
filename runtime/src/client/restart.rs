//! Hot restart: the server built a newer binary than this process runs (an edit no patch can
//! carry, or a restart asked for), so the process replaces itself with it — same pid, argv, cwd
//! and environment, `WHISKER_BUILD_ID` set to the new build. The app may decide otherwise
//! ([`on_restart`]); where the platform can't `exec`, the device says a restart is required.

use super::download::{create_private_dir, local_copy};
use super::session::Session;
use crate::json::Value;
use crate::sha256::sha256_hex;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);
const MAX_BINARY_BYTES: usize = 4 * 1024 * 1024 * 1024 - 1;

/// What the server asks a device to restart into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartRequest {
    /// The new build's id (becomes `WHISKER_BUILD_ID`).
    pub build_id: String,
    /// The binary on the server's machine (used as it is when this process runs there too).
    pub binary_path: String,
    /// Where to download it from otherwise (a path on the server, or an http URL).
    pub binary_url: String,
    /// What the binary's bytes must hash to.
    pub sha256: String,
}

impl RestartRequest {
    pub(super) fn from_value(value: &Value) -> Option<RestartRequest> {
        let field = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        Some(RestartRequest { build_id: field("buildId")?, binary_path: field("binaryPath")?, binary_url: field("binaryUrl")?, sha256: field("sha256")? })
    }
}

static HOOK: Mutex<Option<fn(&RestartRequest) -> bool>> = Mutex::new(None);

/// Lets the app decide about restarts: `hook` runs on the `whisker-hot` thread before the process
/// is replaced, and returning `false` declines (the device then logs that a restart is required
/// and keeps running its current code). What the new process should find goes in
/// [`on_save_state`](super::on_save_state)'s hook, which runs after this one agrees.
pub fn on_restart(hook: fn(&RestartRequest) -> bool) {
    *HOOK.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(hook);
}

impl Session {
    /// Restarts into `request`'s binary; returns only when that did not happen, with why.
    pub(super) fn restart(&mut self, request: &RestartRequest) -> String {
        let hook = *HOOK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(hook) = hook {
            if !hook(request) {
                return format!("restart-required: the app declined the restart into build {}", request.build_id);
            }
        }
        let binary = match local_copy(&request.binary_path, &request.sha256) {
            Some(path) => path,
            None => match self.download_binary(request) {
                Ok(path) => path,
                Err(err) => return format!("restart-required: {err}"),
            },
        };
        match self.save_state() {
            Ok(Some(bytes)) => self.log(&format!("saved {bytes} bytes of state for the new process")),
            Ok(None) => {}
            Err(why) => self.log(&format!("no state saved for the new process: {why}")),
        }
        self.log(&format!("restarting into build {} ({})", request.build_id, binary.display()));
        format!("restart-required: {}", exec(&binary, &request.build_id, self.device.as_deref()))
    }

    fn download_binary(&mut self, request: &RestartRequest) -> Result<PathBuf, String> {
        let url = self.base.resolve(&request.binary_url).map_err(|err| err.to_string())?;
        let response = self.request("GET", &url, None, DOWNLOAD_TIMEOUT, MAX_BINARY_BYTES).map_err(|err| err.to_string())?;
        if response.status != 200 {
            return Err(format!("GET {url} answered HTTP {}", response.status));
        }
        let actual = sha256_hex(&response.body);
        if !actual.eq_ignore_ascii_case(request.sha256.trim()) {
            return Err(format!("sha256 mismatch for {url}: expected {}, got {actual}", request.sha256));
        }
        let dir = create_private_dir().map_err(|err| err.to_string())?;
        let path = dir.join(format!("app-{}", request.build_id));
        write_executable(&path, &response.body).map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        Ok(path)
    }
}

#[cfg(unix)]
fn write_executable(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o700).open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_executable(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// Replaces this process with `binary` (same argv, environment with the new build id and, in
/// `WHISKER_RESTARTED_FROM`, the device this process was, working directory); returns only on
/// failure, with why. `execve` itself, not `Command::exec`: that one
/// goes through `execvp`, which on `ENOEXEC` (a binary this machine can't run) runs the file as a
/// shell script instead — and the app is gone.
#[cfg(unix)]
fn exec(binary: &std::path::Path, build_id: &str, device: Option<&str>) -> String {
    use std::ffi::CString;
    use std::os::raw::{c_char, c_int};
    use std::os::unix::ffi::OsStrExt;
    extern "C" {
        fn execve(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char) -> c_int;
    }
    let c_string = |bytes: &[u8]| CString::new(bytes).map_err(|_| "an argument or variable holds a NUL byte".to_string());
    let prepared = (|| -> Result<(CString, Vec<CString>, Vec<CString>), String> {
        let path = c_string(binary.as_os_str().as_bytes())?;
        let mut argv = std::env::args_os().map(|argument| c_string(argument.as_bytes())).collect::<Result<Vec<_>, _>>()?;
        if argv.is_empty() {
            argv.push(path.clone());
        }
        let mut envp = Vec::new();
        for (key, value) in std::env::vars_os() {
            if key.as_bytes() == b"WHISKER_BUILD_ID" || key.as_bytes() == b"WHISKER_RESTARTED_FROM" {
                continue;
            }
            envp.push(c_string(&[key.as_bytes(), b"=", value.as_bytes()].concat())?);
        }
        envp.push(c_string(format!("WHISKER_BUILD_ID={build_id}").as_bytes())?);
        if let Some(device) = device {
            envp.push(c_string(format!("WHISKER_RESTARTED_FROM={device}").as_bytes())?);
        }
        Ok((path, argv, envp))
    })();
    let (path, argv, envp) = match prepared {
        Ok(prepared) => prepared,
        Err(why) => return format!("cannot execute {}: {why}", binary.display()),
    };
    let pointers = |strings: &[CString]| strings.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect::<Vec<_>>();
    let (argv_pointers, envp_pointers) = (pointers(&argv), pointers(&envp));
    // SAFETY: every pointer is a NUL-terminated string alive for the call; both arrays end in null.
    unsafe { execve(path.as_ptr(), argv_pointers.as_ptr(), envp_pointers.as_ptr()) };
    format!("cannot execute {}: {}", binary.display(), std::io::Error::last_os_error())
}

#[cfg(not(unix))]
fn exec(_binary: &std::path::Path, _build_id: &str, _device: Option<&str>) -> String {
    "this platform cannot replace a running process".to_string()
}
