//! [`ConnectOptions`]: how to reach the dev server and how this process presents itself to it,
//! given in code or read from the `WHISKER_*` environment variables.

use std::sync::Arc;
use std::time::Duration;

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
    /// `0`, `false`, `no` or `off`: don't forward stdout and stderr to the server.
    pub const FORWARD_LOGS: &str = "WHISKER_FORWARD_LOGS";
}

type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// How to reach the dev server and how to present this process to it.
#[derive(Clone)]
pub struct ConnectOptions {
    pub(super) server: String,
    pub(super) token: Option<String>,
    pub(super) device_name: String,
    pub(super) build_id: Option<String>,
    pub(super) poll_wait: Duration,
    pub(super) forward_logs: bool,
    pub(super) log: LogSink,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("device_name", &self.device_name)
            .field("build_id", &self.build_id)
            .field("poll_wait", &self.poll_wait)
            .field("forward_logs", &self.forward_logs)
            .finish()
    }
}

impl ConnectOptions {
    /// Options for the server at `server` (`http://host:port`), no token, the executable's name,
    /// no build id, 30 s long polls, stdout and stderr forwarded, log lines to stderr.
    pub fn new(server: impl Into<String>) -> ConnectOptions {
        ConnectOptions {
            server: server.into(),
            token: None,
            device_name: default_device_name(),
            build_id: None,
            poll_wait: Duration::from_secs(30),
            forward_logs: true,
            log: Arc::new(|line: &str| eprintln!("{line}")),
        }
    }

    /// Options from `WHISKER_DEV_SERVER`, `WHISKER_DEV_TOKEN`, `WHISKER_DEVICE_NAME`,
    /// `WHISKER_BUILD_ID` and `WHISKER_FORWARD_LOGS`; `None` when `WHISKER_DEV_SERVER` is unset
    /// or empty.
    pub fn from_env() -> Option<ConnectOptions> {
        ConnectOptions::from_lookup(|name| std::env::var(name).ok())
    }

    pub(super) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<ConnectOptions> {
        let present = |name: &str| get(name).filter(|value| !value.trim().is_empty());
        let mut options = ConnectOptions::new(present(env::SERVER)?.trim());
        options.token = present(env::TOKEN);
        if let Some(name) = present(env::DEVICE_NAME) {
            options.device_name = name;
        }
        options.build_id = present(env::BUILD_ID);
        if let Some(value) = present(env::FORWARD_LOGS) {
            options.forward_logs = !matches!(value.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off");
        }
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

    /// How long the server may hold a poll open (whole seconds, 1 to 60: the server's `wait` range).
    pub fn poll_wait(mut self, wait: Duration) -> ConnectOptions {
        self.poll_wait = wait.max(Duration::from_secs(1)).min(Duration::from_secs(60));
        self
    }

    /// Whether the app's stdout and stderr are forwarded to the server (`device.log` events,
    /// `GET /api/devices/{id}/logs`) while still reaching their own files; on by default, Unix only.
    /// The first session started decides, for the whole process.
    pub fn forward_logs(mut self, forward: bool) -> ConnectOptions {
        self.forward_logs = forward;
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
