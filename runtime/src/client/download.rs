//! Getting a patch library onto this device: the server's own file when it is on this machine
//! and may be trusted, else a download checked against the announced sha256 and stored in a
//! private directory.

use super::session::{server_error, Session, Trouble};
use crate::error::{Error, ErrorKind};
use crate::sha256::sha256_hex;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_LIBRARY_BYTES: usize = 1024 * 1024 * 1024;

impl Session {
    /// Downloads a patch library, checks its sha256 and stores it privately. `Ok(Err)` is a
    /// failure for good (wrong checksum, gone), `Err` a transient problem.
    pub(super) fn download(&mut self, patch: u64, library_url: &str, expected: &str) -> Result<Result<PathBuf, String>, Trouble> {
        let url = match self.base.resolve(library_url) {
            Ok(url) => url,
            Err(err) => return Ok(Err(err.to_string())),
        };
        let response = self.request("GET", &url, None, DOWNLOAD_TIMEOUT, MAX_LIBRARY_BYTES)?;
        match response.status {
            200 => {}
            404 | 410 => return Ok(Err(format!("the server no longer has the library (GET {url}: HTTP {})", response.status))),
            _ => return Err(server_error(&url, &response).into()),
        }
        let actual = sha256_hex(&response.body);
        if !actual.eq_ignore_ascii_case(expected.trim()) {
            let mismatch = Error::new(
                ErrorKind::Checksum,
                format!("sha256 mismatch for {url}: expected {expected}, got {actual} ({} bytes)", response.body.len()),
            );
            return Ok(Err(mismatch.to_string()));
        }
        Ok(self.store(patch, &response.body).map_err(|err| err.to_string()))
    }

    /// Writes a downloaded library under a fresh private directory with a unique name (the
    /// loader caches by path, and a predictable shared path would let others plant code).
    fn store(&mut self, patch: u64, bytes: &[u8]) -> Result<PathBuf, Error> {
        let dir = match &self.download_dir {
            Some(dir) => dir.clone(),
            None => {
                let dir = create_private_dir()?;
                self.download_dir = Some(dir.clone());
                dir
            }
        };
        self.downloads += 1;
        let extension = if cfg!(target_vendor = "apple") { "dylib" } else { "so" };
        let path = dir.join(format!("libwhisker-patch-{patch}-{}.{extension}", self.downloads));
        std::fs::write(&path, bytes)
            .map_err(|err| Error::new(ErrorKind::Io, format!("cannot write the patch library to {}: {err}", path.display())))?;
        Ok(path)
    }
}

/// The server's own copy of the library when this process runs on the server's machine and may
/// trust it: an absolute path to a regular file (not a symlink) owned by this user, neither it nor
/// its directory writable by anyone else, with the announced sha256. Loading it skips the download
/// and lets every local process map the same file.
#[cfg(unix)]
pub(super) fn local_copy(lib: &str, expected: &str) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    extern "C" {
        fn getuid() -> u32;
    }
    let path = Path::new(lib);
    if !path.is_absolute() {
        return None;
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { getuid() };
    let trusted = |meta: &std::fs::Metadata| meta.uid() == uid && meta.mode() & 0o022 == 0;
    let file = std::fs::symlink_metadata(path).ok()?;
    let dir = std::fs::metadata(path.parent()?).ok()?;
    if !file.file_type().is_file() || !trusted(&file) || !trusted(&dir) {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    sha256_hex(&bytes).eq_ignore_ascii_case(expected.trim()).then(|| path.to_path_buf())
}

#[cfg(not(unix))]
pub(super) fn local_copy(_lib: &str, _expected: &str) -> Option<PathBuf> {
    None
}

pub(super) fn create_private_dir() -> Result<PathBuf, Error> {
    let mut last_error = None;
    for attempt in 0..16u32 {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("whisker-hot-{}-{:08x}{attempt}", std::process::id(), nanos));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(err) => last_error = Some(err),
        }
    }
    Err(Error::new(
        ErrorKind::Io,
        format!(
            "cannot create a download directory in {}: {}",
            std::env::temp_dir().display(),
            last_error.map(|e| e.to_string()).unwrap_or_default()
        ),
    ))
}
