//! `connect()`: the device side of the dev server's protocol (see `docs/architecture.md`).
//!
//! A background thread registers the process, long-polls for patches, downloads each library,
//! checks its sha256, applies it and acks. It never panics and never stops: a dead or confused
//! server costs one log line per failed attempt and an exponential backoff capped at 5 s.
//!
//! This file holds the public entry points; the parts live in `client/`: `options` (what
//! `connect` is told, in code or by the environment), `session` (the protocol's state machine),
//! `download` (getting and checking a patch library), `ack` (what is reported back),
//! `backoff` (how long to wait after a failure), `restart` (replacing the process with a new
//! build), `state` (what the app keeps across that) and `logs` (stdout and stderr forwarded).

mod ack;
mod backoff;
mod download;
mod logs;
mod options;
mod restart;
mod session;
mod state;
#[cfg(test)]
mod tests;

pub use options::{env, ConnectOptions};
pub use restart::{on_restart, RestartRequest};
pub use state::{on_save_state, restored_state};

use crate::error::{Error, ErrorKind};
use crate::http::Url;
use session::Session;
use std::sync::Once;
use std::thread::JoinHandle;

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
    if options.forward_logs {
        if let Err(err) = logs::start() {
            (options.log)(&format!("whisker-hot: not forwarding stdout and stderr: {err}"));
        }
    }
    std::thread::Builder::new()
        .name("whisker-hot".to_string())
        .spawn(move || Session::new(options, base).run())
        .map_err(|err| Error::new(ErrorKind::Io, format!("cannot start the whisker-hot thread: {err}")))
}
