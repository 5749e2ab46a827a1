//! logscope: a log analysis engine.
//!
//! - [`parse`]: format detection and parsers for the combined access-log format, JSON lines,
//!   logfmt and syslog (RFC 3164 and 5424), producing [`Record`]s;
//! - [`query`]: a small filter language (`level >= warn and path ~ "^/api" or status = 500`);
//! - [`stats`]: streaming statistics — log-linear histograms with percentiles, space-saving top-k,
//!   sliding rate windows — folded into a [`stats::Summary`];
//! - [`templates`]: message template mining (which messages are "the same line" with other values);
//! - [`anomaly`]: EWMA-based spike detection on rates;
//! - [`session`]: grouping requests into client sessions;
//! - [`report`]: text tables, JSON, CSV and Markdown output;
//! - [`pipeline`]: the [`Engine`] tying it together for batches and streams.

pub mod anomaly;
pub mod config;
pub mod error;
pub mod fingerprint;
pub mod generate;
pub mod input;
pub mod parse;
pub mod pipeline;
pub mod query;
pub mod record;
pub mod redact;
pub mod report;
pub mod session;
pub mod stats;
pub mod templates;
pub mod timefmt;

pub use config::Config;
pub use error::{Error, Result};
pub use parse::Format;
pub use pipeline::{Engine, TickSummary};
pub use query::Query;
pub use record::{Level, Record, Value};

/// The library's version, as printed by `logscope --version`.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
