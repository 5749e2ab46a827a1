//! State across a hot restart: the app's save hook turns what it wants to keep into bytes just
//! before the process is replaced; the server keeps them under the device this process was, and
//! the new process — told that id by `WHISKER_RESTARTED_FROM` — reads them back once.
//!
//! Bytes, not a type: the new binary may lay its types out differently (that is often why it
//! restarted), so the app chooses an encoding both versions understand.

use super::options::ConnectOptions;
use super::session::{percent_encode, Session};
use crate::http::{self, Body, Credential, Request, Url};
use std::sync::Mutex;
use std::time::Duration;

/// The server's limit on a request body; a larger state is not sent (the restart goes on).
pub(super) const MAX_STATE_BYTES: usize = 1 << 20;
const STATE_TIMEOUT: Duration = Duration::from_secs(10);

type SaveHook = Box<dyn Fn() -> Vec<u8> + Send>;

static SAVE_HOOK: Mutex<Option<SaveHook>> = Mutex::new(None);
/// `None` until [`restored_state`] first asked the server; then its answer, kept.
static RESTORED: Mutex<Option<Option<Vec<u8>>>> = Mutex::new(None);

/// Registers what to keep across a hot restart: `hook` runs on the `whisker-hot` thread right
/// before the process is replaced with a new build (after the new binary is ready), and the bytes
/// it returns (at most 1 MiB) are what [`restored_state`] returns in the new process. The app's
/// own threads keep running meanwhile, so `hook` reads shared state (an atomic, a mutex).
/// A later call replaces the hook.
pub fn on_save_state(hook: impl Fn() -> Vec<u8> + Send + 'static) {
    *SAVE_HOOK.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Box::new(hook));
}

/// The bytes the process this one hot-restarted from saved with [`on_save_state`]; `None` when
/// this process did not come from a restart, the old one saved nothing, or the server can't be
/// reached (said on stderr). Asks the server named by `WHISKER_DEV_SERVER` (with
/// `WHISKER_DEV_TOKEN`) the first time; later calls return the same answer.
pub fn restored_state() -> Option<Vec<u8>> {
    let mut restored = RESTORED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if restored.is_none() {
        let answer = match fetch() {
            Ok(bytes) => bytes,
            Err(why) => {
                eprintln!("whisker-hot: no state restored: {why}");
                None
            }
        };
        *restored = Some(answer);
    }
    restored.as_ref().and_then(Clone::clone)
}

/// GET `/api/devices/{from}/state`: the bytes, or `None` when there are none to read.
fn fetch() -> Result<Option<Vec<u8>>, String> {
    let from = match std::env::var("WHISKER_RESTARTED_FROM").ok().filter(|id| !id.is_empty()) {
        Some(from) => from,
        None => return Ok(None),
    };
    let options = ConnectOptions::from_env().ok_or("WHISKER_DEV_SERVER is not set")?;
    let base = Url::parse(&options.server).map_err(|err| err.to_string())?;
    let url = base.join(&format!("/api/devices/{}/state", percent_encode(&from)));
    let response = http::send(&Request {
        method: "GET",
        url: &url,
        credential: Credential::for_server(options.token.as_deref(), &base),
        body: None,
        timeout: STATE_TIMEOUT,
        max_body: MAX_STATE_BYTES,
    })
    .map_err(|err| err.to_string())?;
    match response.status {
        200 => Ok(Some(response.body)),
        404 => Ok(None),
        status => Err(format!("GET {url} answered HTTP {status}: {}", response.body_text())),
    }
}

impl Session {
    /// Runs the save hook, if any, and hands its bytes to the server under this device's id.
    /// An error says why nothing was kept; the restart goes on without it.
    pub(super) fn save_state(&self) -> Result<Option<usize>, String> {
        let hook = SAVE_HOOK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let bytes = match hook.as_ref() {
            Some(hook) => hook(),
            None => return Ok(None),
        };
        drop(hook);
        if bytes.len() > MAX_STATE_BYTES {
            return Err(format!("the saved state is {} bytes, more than the {MAX_STATE_BYTES} the server keeps", bytes.len()));
        }
        let device = self.device.as_deref().ok_or("this process has not registered yet")?;
        let url = self.device_url(device, "/state");
        let response = self.send("PUT", &url, Some(Body::octets(&bytes)), STATE_TIMEOUT, 64 * 1024).map_err(|err| err.to_string())?;
        if !(200..300).contains(&response.status) {
            return Err(format!("PUT {url} answered HTTP {}: {}", response.status, response.body_text()));
        }
        Ok(Some(bytes.len()))
    }
}
