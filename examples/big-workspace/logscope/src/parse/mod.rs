//! Parsers for the log formats logscope reads, and detection of which one a file uses.

mod clf;
mod detect;
mod json;
mod logfmt;
mod syslog;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::record::Record;

pub use clf::parse_clf;
pub use detect::{detect, Detection};
pub use json::parse_json;
pub use logfmt::{parse_logfmt, tokenize_logfmt};
pub use syslog::parse_syslog;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Apache/nginx "combined" access log.
    Combined,
    /// One JSON object per line.
    JsonLines,
    /// `key=value key2="quoted value"`.
    Logfmt,
    /// RFC 3164 or RFC 5424 syslog.
    Syslog,
    /// Anything else: the whole line is the message, with a level if one is spelled out.
    Plain,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Combined, Format::JsonLines, Format::Logfmt, Format::Syslog, Format::Plain];

    pub fn name(self) -> &'static str {
        match self {
            Format::Combined => "combined",
            Format::JsonLines => "json",
            Format::Logfmt => "logfmt",
            Format::Syslog => "syslog",
            Format::Plain => "plain",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.name() == name || (name == "jsonl" && *f == Format::JsonLines))
    }

    /// Parses one line; `number` is its 1-based line number, for errors.
    pub fn parse(self, line: &str, number: usize) -> Result<Record> {
        match self {
            Format::Combined => parse_clf(line, number),
            Format::JsonLines => parse_json(line, number),
            Format::Logfmt => parse_logfmt(line, number),
            Format::Syslog => parse_syslog(line, number),
            Format::Plain => Ok(parse_plain(line)),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A line in no known format: a leading timestamp and a level word are still recognised.
pub fn parse_plain(line: &str) -> Record {
    let mut record = Record::new("plain", line.trim_end());
    let mut words = line.split_whitespace();
    let mut consumed = 0;
    if let Some(first) = words.next() {
        let two = line.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        if let Some(time) = crate::timefmt::parse_timestamp(&two) {
            record.timestamp = Some(time);
            consumed = 2;
        } else if let Some(time) = crate::timefmt::parse_timestamp(first) {
            record.timestamp = Some(time);
            consumed = 1;
        }
    }
    let rest: Vec<&str> = line.split_whitespace().skip(consumed).collect();
    if let Some(word) = rest.first() {
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if let Some(level) = crate::record::Level::parse(bare) {
            if bare.len() > 1 {
                record.level = level;
                record.message = rest[1..].join(" ");
                return record;
            }
        }
    }
    if consumed > 0 {
        record.message = rest.join(" ");
    }
    record
}
