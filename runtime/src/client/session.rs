//! The [`Session`] state machine run on the `whisker-hot` thread: register → long-poll → for each
//! new patch download, verify, apply → ack, over again; a failed step is logged and retried after
//! a [`Backoff`], and a server that forgot this device gets it registered again.

use super::ack::{epoch_ms, Ack, Timings};
use super::backoff::Backoff;
use super::download::local_copy;
use super::options::ConnectOptions;
use super::restart::RestartRequest;
use super::target_triple;
use crate::error::{Error, ErrorKind};
use crate::http::{self, Body, Credential, Request, Url};
use crate::json::{self, Value};
use crate::table::{apply, JumpTable};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

const SHORT_TIMEOUT: Duration = Duration::from_secs(15);
/// The shortest time between two polls that brought nothing new.
const MIN_EMPTY_POLL: Duration = Duration::from_millis(250);
const MAX_JSON_BODY: usize = 64 * 1024 * 1024;

/// Why a protocol step did not complete.
pub(super) enum Trouble {
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

/// One device's conversation with the server, from registering on. The half of its `impl` that
/// gets libraries onto the device is in `download.rs`, hence the fields it needs are `pub(super)`.
pub(super) struct Session {
    options: ConnectOptions,
    pub(super) base: Url,
    pub(super) device: Option<String>,
    /// The newest patch id handled (applied or failed for good).
    after: u64,
    backoff: Backoff,
    pending_acks: Vec<Ack>,
    pub(super) download_dir: Option<PathBuf>,
    pub(super) downloads: u64,
    /// The build a restart into failed or was declined: not tried again.
    restart_refused: Option<String>,
}

impl Session {
    pub(super) fn new(options: ConnectOptions, base: Url) -> Session {
        Session {
            options,
            base,
            device: None,
            after: 0,
            backoff: Backoff::new(),
            pending_acks: Vec::new(),
            download_dir: None,
            downloads: 0,
            restart_refused: None,
        }
    }

    pub(super) fn log(&self, message: &str) {
        (self.options.log)(&format!("whisker-hot: {message}"));
    }

    pub(super) fn run(mut self) {
        loop {
            let device = match self.device.clone() {
                Some(device) => device,
                None => match self.register() {
                    Ok(device) => {
                        self.log(&format!("registered with {} as device {device}", self.options.server));
                        self.device = Some(device.clone());
                        super::logs::device_registered(&self.base, self.options.token.as_deref(), &device);
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
            let (patches, restart, received) = match self.poll(&device) {
                Ok(answer) => answer,
                Err(trouble) => {
                    self.retry_later("polling for patches", trouble);
                    continue;
                }
            };
            self.backoff.reset();
            if let Some(restart) = restart {
                if self.restart_refused.as_deref() != Some(restart.build_id.as_str()) {
                    // Returns only when this process was not replaced; the new one must find
                    // the app's own stdout and stderr, not our pipes.
                    let why = {
                        let _original = super::logs::original_output_for_exec();
                        self.restart(&restart)
                    };
                    self.log(&why);
                    self.restart_refused = Some(restart.build_id.clone());
                }
                // The server keeps offering it; the next look is a while away.
                std::thread::sleep(self.options.poll_wait.min(Duration::from_secs(5)));
                continue;
            }
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

    pub(super) fn request(&self, method: &str, url: &Url, body: Option<&str>, timeout: Duration, max_body: usize) -> Result<http::Response, Error> {
        self.send(method, url, body.map(Body::json), timeout, max_body)
    }

    pub(super) fn send(&self, method: &str, url: &Url, body: Option<Body<'_>>, timeout: Duration, max_body: usize) -> Result<http::Response, Error> {
        http::send(&Request {
            method,
            url,
            // The token is the server's: a library URL naming another origin never gets it.
            credential: Credential::for_server(self.options.token.as_deref(), &self.base),
            body,
            timeout,
            max_body,
        })
    }

    fn register(&self) -> Result<String, Error> {
        let body = format!(
            "{{\"name\":{},\"pid\":{},\"triple\":{},\"buildId\":{},\"aslrReference\":\"{:#x}\"{}}}",
            json::quote(&self.options.device_name),
            std::process::id(),
            json::quote(&target_triple()),
            self.options.build_id.as_deref().map(json::quote).unwrap_or_else(|| "null".to_string()),
            crate::aslr_reference(),
            // Set by the restart that made this process (client/restart.rs).
            std::env::var("WHISKER_RESTARTED_FROM")
                .ok()
                .filter(|id| !id.is_empty())
                .map(|id| format!(",\"restartedFrom\":{}", json::quote(&id)))
                .unwrap_or_default()
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

    pub(super) fn device_url(&self, device: &str, tail: &str) -> Url {
        self.base.join(&format!("/api/devices/{}{tail}", percent_encode(device)))
    }

    fn poll(&self, device: &str) -> Result<(Vec<Announced>, Option<RestartRequest>, Received), Trouble> {
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
        let restart = value.get("restart").and_then(RestartRequest::from_value);
        Ok((patches, restart, Received { wall, at, parse: at.elapsed() }))
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
                if applied.entry_patches_restored > 0 {
                    line += &format!(", {} entries restored", applied.entry_patches_restored);
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

/// The server's `{"error":{"message","hint"}}` (or the start of its body) as an error.
pub(super) fn server_error(url: &Url, response: &http::Response) -> Error {
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

pub(super) fn percent_encode(text: &str) -> String {
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
