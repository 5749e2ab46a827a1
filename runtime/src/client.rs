//! `connect()`: the device side of the dev server's protocol (see `docs/architecture.md`).
//!
//! A background thread registers the process, long-polls for patches, downloads each library,
//! checks its sha256, applies it and acks. It never panics and never stops: a dead or confused
//! server costs one log line per failed attempt and an exponential backoff capped at 5 s.

use crate::error::{Error, ErrorKind};
use crate::http::{self, Request, Url};
use crate::json::{self, Value};
use crate::sha256::sha256_hex;
use crate::table::{apply, JumpTable};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SHORT_TIMEOUT: Duration = Duration::from_secs(15);
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(60);
/// The shortest time between two polls that brought nothing new.
const MIN_EMPTY_POLL: Duration = Duration::from_millis(250);
const MAX_JSON_BODY: usize = 64 * 1024 * 1024;
const MAX_LIBRARY_BYTES: usize = 1024 * 1024 * 1024;

/// The environment variables `connect()` reads.
pub mod env {
    /// Base URL of the dev server, e.g. `http://127.0.0.1:9630`. Unset or empty: no connection.
    pub const SERVER: &str = "WHISKER_DEV_SERVER";
    /// Bearer token for a server in LAN mode.
    pub const TOKEN: &str = "WHISKER_DEV_TOKEN";
    /// Name shown for this device (default: the executable's file name).
    pub const DEVICE_NAME: &str = "WHISKER_DEVICE_NAME";
    /// Id of the fat build this executable is (set by whoever launches it; sent as `buildId`).
    pub const BUILD_ID: &str = "WHISKER_BUILD_ID";
}

type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// How to reach the dev server and how to present this process to it.
#[derive(Clone)]
pub struct ConnectOptions {
    server: String,
    token: Option<String>,
    device_name: String,
    build_id: Option<String>,
    poll_wait: Duration,
    log: LogSink,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("device_name", &self.device_name)
            .field("build_id", &self.build_id)
            .field("poll_wait", &self.poll_wait)
            .finish()
    }
}

impl ConnectOptions {
    /// Options for the server at `server` (`http://host:port`), no token, the executable's name,
    /// no build id, 30 s long polls, log lines to stderr.
    pub fn new(server: impl Into<String>) -> ConnectOptions {
        ConnectOptions {
            server: server.into(),
            token: None,
            device_name: default_device_name(),
            build_id: None,
            poll_wait: Duration::from_secs(30),
            log: Arc::new(|line: &str| eprintln!("{line}")),
        }
    }

    /// Options from `WHISKER_DEV_SERVER`, `WHISKER_DEV_TOKEN`, `WHISKER_DEVICE_NAME` and
    /// `WHISKER_BUILD_ID`; `None` when `WHISKER_DEV_SERVER` is unset or empty.
    pub fn from_env() -> Option<ConnectOptions> {
        ConnectOptions::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<ConnectOptions> {
        let present = |name: &str| get(name).filter(|value| !value.trim().is_empty());
        let mut options = ConnectOptions::new(present(env::SERVER)?.trim());
        options.token = present(env::TOKEN);
        if let Some(name) = present(env::DEVICE_NAME) {
            options.device_name = name;
        }
        options.build_id = present(env::BUILD_ID);
        Some(options)
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn token(mut self, token: impl Into<String>) -> ConnectOptions {
        self.token = Some(token.into());
        self
    }

    /// The name the server shows for this device.
    pub fn device_name(mut self, name: impl Into<String>) -> ConnectOptions {
        self.device_name = name.into();
        self
    }

    /// The id of the fat build this executable is, sent as `buildId` when registering.
    pub fn build_id(mut self, build_id: impl Into<String>) -> ConnectOptions {
        self.build_id = Some(build_id.into());
        self
    }

    /// How long the server may hold a poll open (whole seconds, at least 1).
    pub fn poll_wait(mut self, wait: Duration) -> ConnectOptions {
        self.poll_wait = wait.max(Duration::from_secs(1));
        self
    }

    /// Where log lines go (each already prefixed `whisker-hot: `); stderr by default.
    pub fn log_with(mut self, sink: impl Fn(&str) + Send + Sync + 'static) -> ConnectOptions {
        self.log = Arc::new(sink);
        self
    }
}

fn default_device_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.file_name().map(|name| name.to_string_lossy().into_owned()))
        .or_else(|| std::env::args().next())
        .unwrap_or_else(|| "app".to_string())
}

/// The target triple this crate was compiled for, as the server names toolchains.
pub fn target_triple() -> String {
    let arch = std::env::consts::ARCH;
    let os = std::env::consts::OS;
    let rest = match os {
        "linux" if cfg!(target_env = "musl") => "unknown-linux-musl",
        "linux" => "unknown-linux-gnu",
        "android" if arch == "arm" => return "armv7-linux-androideabi".to_string(),
        "android" => "linux-android",
        "macos" => "apple-darwin",
        "ios" => "apple-ios",
        "windows" if cfg!(target_env = "gnu") => "pc-windows-gnu",
        "windows" => "pc-windows-msvc",
        "freebsd" => "unknown-freebsd",
        other => return format!("{}-unknown-{other}", arch_name(arch, os)),
    };
    format!("{}-{rest}", arch_name(arch, os))
}

fn arch_name(arch: &'static str, os: &str) -> &'static str {
    match (arch, os) {
        ("x86", _) => "i686",
        ("arm", "linux") => "armv7",
        _ => arch,
    }
}

/// Connects to the dev server named by `WHISKER_DEV_SERVER`, if set; otherwise does nothing.
///
/// The work happens on a background thread named `whisker-hot`, started at most once per
/// process; this call returns at once and never fails or panics (problems are logged to stderr
/// as `whisker-hot: …` lines). See [`ConnectOptions::from_env`] for the variables read.
pub fn connect() {
    static STARTED: Once = Once::new();
    let options = match ConnectOptions::from_env() {
        Some(options) => options,
        None => return,
    };
    STARTED.call_once(|| {
        let log = options.log.clone();
        if let Err(err) = connect_with(options) {
            log(&format!("whisker-hot: not connecting: {err}"));
        }
    });
}

/// Starts a device session with explicit options (for apps that cannot set environment
/// variables, such as mobile apps). Fails only on a malformed server URL or if no thread can be
/// started; every later problem is logged and retried.
pub fn connect_with(options: ConnectOptions) -> Result<JoinHandle<()>, Error> {
    let base = Url::parse(&options.server)?;
    std::thread::Builder::new()
        .name("whisker-hot".to_string())
        .spawn(move || Session::new(options, base).run())
        .map_err(|err| Error::new(ErrorKind::Io, format!("cannot start the whisker-hot thread: {err}")))
}

/// Delay before the next attempt: 250 ms, doubled per consecutive failure, at most 5 s.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(250);
    const CAP: Duration = Duration::from_secs(5);

    pub(crate) fn new() -> Backoff {
        Backoff { next: Backoff::FIRST }
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(Backoff::CAP);
        delay
    }

    pub(crate) fn reset(&mut self) {
        self.next = Backoff::FIRST;
    }
}

/// Why a protocol step did not complete.
enum Trouble {
    /// The server answered 404 for our device id: it forgot us (restart, deletion).
    UnknownDevice,
    Failed(Error),
}

impl From<Error> for Trouble {
    fn from(err: Error) -> Trouble {
        Trouble::Failed(err)
    }
}

/// One patch as announced by the server.
struct Announced {
    id: u64,
    sha256: Option<String>,
    library_url: Option<String>,
    jump_table: Option<Value>,
}

/// When a poll answer arrived, on both clocks, and how long reading its JSON took.
#[derive(Clone, Copy)]
struct Received {
    wall: SystemTime,
    at: Instant,
    parse: Duration,
}

/// What the device measured while delivering one patch; sent in its ack (see [`Ack::json`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Timings {
    /// Wall clock, milliseconds since the Unix epoch: the poll answer was read / the patch applied
    /// (or failed). The server places them on its own timeline.
    pub(crate) received_at_ms: f64,
    pub(crate) applied_at_ms: f64,
    pub(crate) parse: Duration,
    pub(crate) fetch: Duration,
    pub(crate) load: Duration,
    pub(crate) apply: Duration,
    pub(crate) total: Duration,
    /// `local` (the server's own file loaded in place) or `download`; `None` before a library was fetched.
    pub(crate) fetch_kind: Option<&'static str>,
}

pub(crate) struct Ack {
    pub(crate) patch: u64,
    pub(crate) error: Option<String>,
    pub(crate) timings: Option<Timings>,
}

fn epoch_ms(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

impl Ack {
    /// `{"patch":N,"status":"applied"|"failed"[,"error"],"receivedAt","appliedAt","timings":{…}}`:
    /// the instants in Unix-epoch milliseconds, the durations in milliseconds (microsecond precision).
    pub(crate) fn json(&self) -> String {
        let mut body = match &self.error {
            None => format!("{{\"patch\":{},\"status\":\"applied\"", self.patch),
            Some(error) => format!("{{\"patch\":{},\"status\":\"failed\",\"error\":{}", self.patch, json::quote(error)),
        };
        if let Some(t) = &self.timings {
            body += &format!(
                ",\"receivedAt\":{:.3},\"appliedAt\":{:.3},\"timings\":{{\"parseMs\":{:.3},\"fetchMs\":{:.3},\"loadMs\":{:.3},\"applyMs\":{:.3},\"totalMs\":{:.3}",
                t.received_at_ms,
                t.applied_at_ms,
                ms(t.parse),
                ms(t.fetch),
                ms(t.load),
                ms(t.apply),
                ms(t.total)
            );
            if let Some(kind) = t.fetch_kind {
                body += &format!(",\"fetch\":{}", json::quote(kind));
            }
            body.push('}');
        }
        body.push('}');
        body
    }
}

struct Session {
    options: ConnectOptions,
    base: Url,
    device: Option<String>,
    /// The newest patch id handled (applied or failed for good).
    after: u64,
    backoff: Backoff,
    pending_acks: Vec<Ack>,
    download_dir: Option<PathBuf>,
    downloads: u64,
}

impl Session {
    fn new(options: ConnectOptions, base: Url) -> Session {
        Session {
            options,
            base,
            device: None,
            after: 0,
            backoff: Backoff::new(),
            pending_acks: Vec::new(),
            download_dir: None,
            downloads: 0,
        }
    }

    fn log(&self, message: &str) {
        (self.options.log)(&format!("whisker-hot: {message}"));
    }

    fn run(mut self) {
        loop {
            let device = match self.device.clone() {
                Some(device) => device,
                None => match self.register() {
                    Ok(device) => {
                        self.log(&format!("registered with {} as device {device}", self.options.server));
                        self.device = Some(device.clone());
                        device
                    }
                    Err(err) => {
                        self.retry_later("registering", Trouble::Failed(err));
                        continue;
                    }
                },
            };
            if let Err(trouble) = self.flush_acks(&device) {
                self.retry_later("sending acks", trouble);
                continue;
            }
            let started = Instant::now();
            let (patches, received) = match self.poll(&device) {
                Ok(answer) => answer,
                Err(trouble) => {
                    self.retry_later("polling for patches", trouble);
                    continue;
                }
            };
            self.backoff.reset();
            if patches.iter().all(|patch| patch.id <= self.after) {
                // A server that answers an empty long poll at once must not turn this loop
                // into a busy one.
                std::thread::sleep(MIN_EMPTY_POLL.saturating_sub(started.elapsed()));
            }
            for patch in patches {
                if patch.id <= self.after {
                    continue;
                }
                match self.deliver(&patch, received) {
                    Ok(ack) => {
                        self.after = patch.id;
                        self.pending_acks.push(ack);
                        if let Err(trouble) = self.flush_acks(&device) {
                            self.retry_later("sending acks", trouble);
                            break;
                        }
                    }
                    Err(trouble) => {
                        self.retry_later(&format!("downloading patch {}", patch.id), trouble);
                        break;
                    }
                }
            }
        }
    }

    /// Logs the failure and sleeps; a 404 for our device id means registering again.
    fn retry_later(&mut self, what: &str, trouble: Trouble) {
        let delay = self.backoff.next_delay();
        match trouble {
            Trouble::UnknownDevice => {
                let device = self.device.take().unwrap_or_default();
                self.log(&format!("device {device} is unknown to the server; registering again"));
            }
            Trouble::Failed(err) => {
                self.log(&format!("{what} failed: {err}; retrying in {} ms", delay.as_millis()));
            }
        }
        std::thread::sleep(delay);
    }

    fn request(&self, method: &str, url: &Url, body: Option<&str>, timeout: Duration, max_body: usize) -> Result<http::Response, Error> {
        http::send(&Request {
            method,
            url,
            bearer_token: self.options.token.as_deref(),
            json_body: body,
            timeout,
            max_body,
        })
    }

    fn register(&self) -> Result<String, Error> {
        let body = format!(
            "{{\"name\":{},\"pid\":{},\"triple\":{},\"buildId\":{},\"aslrReference\":\"{:#x}\"}}",
            json::quote(&self.options.device_name),
            std::process::id(),
            json::quote(&target_triple()),
            self.options.build_id.as_deref().map(json::quote).unwrap_or_else(|| "null".to_string()),
            crate::aslr_reference()
        );
        let url = self.base.join("/api/devices");
        let response = self.request("POST", &url, Some(&body), SHORT_TIMEOUT, MAX_JSON_BODY)?;
        if !(200..300).contains(&response.status) {
            return Err(server_error(&url, &response));
        }
        let value = json::parse(&response.body_text())
            .map_err(|err| Error::new(ErrorKind::Http, format!("POST {url} answered with bad JSON: {err}")))?;
        match value.get("id") {
            Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
            Some(Value::Number(id)) => Ok(id.clone()),
            _ => Err(Error::new(ErrorKind::Http, format!("POST {url} answered without a device \"id\""))),
        }
    }

    fn device_url(&self, device: &str, tail: &str) -> Url {
        self.base.join(&format!("/api/devices/{}{tail}", percent_encode(device)))
    }

    fn poll(&self, device: &str) -> Result<(Vec<Announced>, Received), Trouble> {
        let wait = self.options.poll_wait.as_secs().max(1);
        let url = self.device_url(device, &format!("/patches?after={}&wait={wait}", self.after));
        let response = self.request("GET", &url, None, self.options.poll_wait + SHORT_TIMEOUT, MAX_JSON_BODY)?;
        let (wall, at) = (SystemTime::now(), Instant::now());
        if response.status == 404 {
            return Err(Trouble::UnknownDevice);
        }
        if response.status != 200 {
            return Err(server_error(&url, &response).into());
        }
        let value = json::parse(&response.body_text())
            .map_err(|err| Error::new(ErrorKind::Http, format!("GET {url} answered with bad JSON: {err}")))?;
        let items = match value.get("patches").and_then(Value::as_array) {
            Some(items) => items,
            None => return Err(Error::new(ErrorKind::Http, format!("GET {url} answered without a \"patches\" array")).into()),
        };
        let mut patches = Vec::with_capacity(items.len());
        for item in items {
            let id = match item.get("id").and_then(Value::as_u64) {
                Some(id) => id,
                None => {
                    self.log("the server announced a patch without a numeric \"id\"; ignoring it");
                    continue;
                }
            };
            patches.push(Announced {
                id,
                sha256: item.get("sha256").and_then(Value::as_str).map(str::to_string),
                library_url: item.get("libraryUrl").and_then(Value::as_str).map(str::to_string),
                jump_table: item.get("jumpTable").cloned(),
            });
        }
        patches.sort_by_key(|patch| patch.id);
        Ok((patches, Received { wall, at, parse: at.elapsed() }))
    }

    /// Downloads, checks and applies one patch. `Ok` carries the ack to send (applied or failed
    /// for good), with the device's timings; `Err` means a transient problem worth retrying later.
    fn deliver(&mut self, patch: &Announced, received: Received) -> Result<Ack, Trouble> {
        // The first patch of a poll answer starts when the answer arrived; a later one in the
        // same answer when the ones before it are done (their work is not its latency).
        let (started_wall, started) = if received.at.elapsed() > Duration::from_millis(1) {
            (SystemTime::now(), Instant::now())
        } else {
            (received.wall, received.at)
        };
        let mut timings = Timings {
            received_at_ms: epoch_ms(started_wall),
            applied_at_ms: 0.0,
            parse: received.parse,
            fetch: Duration::ZERO,
            load: Duration::ZERO,
            apply: Duration::ZERO,
            total: Duration::ZERO,
            fetch_kind: None,
        };
        let finish = |mut timings: Timings, error: Option<String>| {
            timings.total = started.elapsed() + if started == received.at { Duration::ZERO } else { received.parse };
            timings.applied_at_ms = epoch_ms(SystemTime::now());
            Ack { patch: patch.id, error, timings: Some(timings) }
        };
        let failed = |session: &Session, timings: Timings, error: String| {
            session.log(&format!("patch {} failed: {error}", patch.id));
            Ok(finish(timings, Some(error)))
        };
        let step = Instant::now();
        let parsed = patch.jump_table.as_ref().map(JumpTable::from_value);
        timings.parse += step.elapsed();
        let mut table = match parsed {
            Some(Ok(table)) => table,
            Some(Err(err)) => return failed(self, timings, err.to_string()),
            None => return failed(self, timings, "the server sent no \"jumpTable\"".to_string()),
        };
        let (library_url, expected) = match (patch.library_url.as_deref(), patch.sha256.as_deref()) {
            (Some(library_url), Some(expected)) => (library_url, expected),
            _ => return failed(self, timings, "the server sent no \"libraryUrl\" or no \"sha256\"".to_string()),
        };
        let step = Instant::now();
        let path = match local_copy(&table.lib, expected) {
            // The server runs on this machine: load its file (one file, shared by every process).
            Some(path) => {
                timings.fetch_kind = Some("local");
                path
            }
            None => {
                timings.fetch_kind = Some("download");
                match self.download(patch.id, library_url, expected) {
                    Ok(Ok(path)) => path,
                    Ok(Err(error)) => {
                        timings.fetch = step.elapsed();
                        return failed(self, timings, error);
                    }
                    Err(trouble) => return Err(trouble),
                }
            }
        };
        timings.fetch = step.elapsed();
        table.lib = path.to_string_lossy().into_owned();
        let step = Instant::now();
        let outcome = apply(&table);
        let elapsed = step.elapsed();
        match outcome {
            Ok(applied) => {
                timings.load = applied.load_time;
                timings.apply = elapsed.saturating_sub(applied.load_time);
                let ack = finish(timings, None);
                let mut line = format!("applied patch {} ({} functions", patch.id, applied.functions);
                if applied.entry_patches_written + applied.entry_patches_skipped > 0 {
                    line += &format!(
                        ", {} entries patched, {} too small to patch",
                        applied.entry_patches_written, applied.entry_patches_skipped
                    );
                }
                self.log(&(line + &format!(", {})", table.lib)));
                Ok(ack)
            }
            Err(err) => {
                timings.apply = elapsed;
                failed(self, timings, err.to_string())
            }
        }
    }

    /// Downloads a patch library, checks its sha256 and stores it privately. `Ok(Err)` is a
    /// failure for good (wrong checksum, gone), `Err` a transient problem.
    fn download(&mut self, patch: u64, library_url: &str, expected: &str) -> Result<Result<PathBuf, String>, Trouble> {
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

    fn flush_acks(&mut self, device: &str) -> Result<(), Trouble> {
        while let Some(ack) = self.pending_acks.first() {
            let body = ack.json();
            let url = self.device_url(device, "/acks");
            let response = self.request("POST", &url, Some(&body), SHORT_TIMEOUT, MAX_JSON_BODY)?;
            match response.status {
                200..=299 => {
                    self.pending_acks.remove(0);
                }
                404 => return Err(Trouble::UnknownDevice),
                _ => return Err(server_error(&url, &response).into()),
            }
        }
        Ok(())
    }
}

/// The server's own copy of the library when this process runs on the server's machine and may
/// trust it: an absolute path to a regular file (not a symlink) owned by this user, neither it nor
/// its directory writable by anyone else, with the announced sha256. Loading it skips the download
/// and lets every local process map the same file.
#[cfg(unix)]
fn local_copy(lib: &str, expected: &str) -> Option<PathBuf> {
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
fn local_copy(_lib: &str, _expected: &str) -> Option<PathBuf> {
    None
}

fn create_private_dir() -> Result<PathBuf, Error> {
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

/// The server's `{"error":{"message","hint"}}` (or the start of its body) as an error.
fn server_error(url: &Url, response: &http::Response) -> Error {
    let text = response.body_text();
    let detail = json::parse(&text).ok().and_then(|value| {
        let error = value.get("error")?;
        let message = error.get("message").and_then(Value::as_str)?.to_string();
        Some(match error.get("hint").and_then(Value::as_str) {
            Some(hint) if !hint.is_empty() => format!("{message} (hint: {hint})"),
            _ => message,
        })
    });
    let detail = detail.unwrap_or_else(|| text.chars().take(200).collect::<String>().trim().to_string());
    let advice = if response.status == 401 { "; set WHISKER_DEV_TOKEN to the token the server printed" } else { "" };
    Error::new(ErrorKind::Http, format!("{url} answered HTTP {}: {detail}{advice}", response.status))
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {

    #[cfg(unix)]
    #[test]
    fn local_copy_loads_only_a_trusted_file_with_the_announced_checksum() {
        use std::os::unix::fs::PermissionsExt;
        let dir = create_private_dir().expect("private dir");
        let lib = dir.join("libwhisker-patch-1-abc.so");
        std::fs::write(&lib, b"not really a library").unwrap();
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o644)).unwrap();
        let sum = sha256_hex(b"not really a library");
        let text = lib.to_str().unwrap();
        assert_eq!(local_copy(text, &sum), Some(lib.clone()));
        assert_eq!(local_copy(text, &sum.to_uppercase()), Some(lib.clone()));
        assert_eq!(local_copy(text, &sha256_hex(b"other bytes")), None, "checksum must match");
        assert_eq!(local_copy("libwhisker-patch-1-abc.so", &sum), None, "relative paths are never trusted");
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o664)).unwrap();
        assert_eq!(local_copy(text, &sum), None, "a group-writable file is not trusted");
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.join("link.so");
        std::os::unix::fs::symlink(&lib, &link).unwrap();
        assert_eq!(local_copy(link.to_str().unwrap(), &sum), None, "symlinks are not followed");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(local_copy(text, &sum), None, "a world-writable directory is not trusted");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    use super::*;
    use std::collections::HashMap;

    #[test]
    fn backoff_doubles_up_to_five_seconds_and_resets() {
        let mut backoff = Backoff::new();
        let delays: Vec<u64> = (0..8).map(|_| backoff.next_delay().as_millis() as u64).collect();
        assert_eq!(delays, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(250));
    }

    #[test]
    fn options_come_from_the_environment_only_when_a_server_is_set() {
        let vars = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            move |name: &str| map.get(name).cloned()
        };
        assert!(ConnectOptions::from_lookup(vars(&[])).is_none());
        assert!(ConnectOptions::from_lookup(vars(&[(env::SERVER, "  ")])).is_none());
        let options = ConnectOptions::from_lookup(vars(&[
            (env::SERVER, "http://127.0.0.1:9630"),
            (env::TOKEN, "t0k"),
            (env::DEVICE_NAME, "phone"),
            (env::BUILD_ID, "b20260101-000000-abcdef"),
        ]))
        .unwrap();
        assert_eq!(options.server, "http://127.0.0.1:9630");
        assert_eq!(options.token.as_deref(), Some("t0k"));
        assert_eq!(options.device_name, "phone");
        assert_eq!(options.build_id.as_deref(), Some("b20260101-000000-abcdef"));
        assert!(!format!("{options:?}").contains("t0k"), "the token is not printed");
        let defaults = ConnectOptions::from_lookup(vars(&[(env::SERVER, "http://h:1")])).unwrap();
        assert_eq!(defaults.token, None);
        assert_eq!(defaults.build_id, None);
        assert!(!defaults.device_name.is_empty());
    }

    #[test]
    fn triple_names_this_host() {
        let triple = target_triple();
        assert!(triple.starts_with(std::env::consts::ARCH) || triple.starts_with("i686") || triple.starts_with("armv7"), "{triple}");
        if cfg!(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu")) {
            assert_eq!(triple, "x86_64-unknown-linux-gnu");
        }
    }

    #[test]
    fn server_errors_carry_message_hint_and_token_advice() {
        let url = Url::parse("http://127.0.0.1:1/api/devices").unwrap();
        let response = http::Response {
            status: 401,
            headers: vec![],
            body: br#"{"error":{"code":"unauthorized","message":"missing bearer token","hint":"pass the token"}}"#.to_vec(),
        };
        let err = server_error(&url, &response);
        assert_eq!(
            err.message(),
            "http://127.0.0.1:1/api/devices answered HTTP 401: missing bearer token (hint: pass the token); \
             set WHISKER_DEV_TOKEN to the token the server printed"
        );
        let response = http::Response { status: 500, headers: vec![], body: b"oops".to_vec() };
        assert!(server_error(&url, &response).message().ends_with("HTTP 500: oops"));
    }

    #[test]
    fn acks_carry_the_device_timings_in_milliseconds() {
        let timings = Timings {
            received_at_ms: 1_764_050_100_123.25,
            applied_at_ms: 1_764_050_100_130.5,
            parse: Duration::from_micros(250),
            fetch: Duration::from_micros(3_100),
            load: Duration::from_micros(1_200),
            apply: Duration::from_micros(300),
            total: Duration::from_micros(4_900),
            fetch_kind: Some("local"),
        };
        let ack = Ack { patch: 3, error: None, timings: Some(timings.clone()) };
        assert_eq!(
            ack.json(),
            r#"{"patch":3,"status":"applied","receivedAt":1764050100123.250,"appliedAt":1764050100130.500,"timings":{"parseMs":0.250,"fetchMs":3.100,"loadMs":1.200,"applyMs":0.300,"totalMs":4.900,"fetch":"local"}}"#
        );
        let failed = Ack { patch: 4, error: Some("no \"lib\"".to_string()), timings: Some(Timings { fetch_kind: None, ..timings }) };
        assert!(failed.json().starts_with(r#"{"patch":4,"status":"failed","error":"no \"lib\"","receivedAt":"#), "{}", failed.json());
        assert!(failed.json().ends_with(r#""totalMs":4.900}}"#), "{}", failed.json());
        assert_eq!(Ack { patch: 5, error: None, timings: None }.json(), r#"{"patch":5,"status":"applied"}"#);
    }

    #[test]
    fn device_ids_are_escaped_in_paths() {
        assert_eq!(percent_encode("d12-a_b.c~"), "d12-a_b.c~");
        assert_eq!(percent_encode("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn download_dirs_are_private_and_unique() {
        let a = create_private_dir().unwrap();
        let b = create_private_dir().unwrap();
        assert_ne!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&a).unwrap().permissions().mode() & 0o777, 0o700);
        }
        let _ = std::fs::remove_dir(a);
        let _ = std::fs::remove_dir(b);
    }
}
