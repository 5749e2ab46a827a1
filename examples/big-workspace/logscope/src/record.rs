//! The parsed form of one log line.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Notice,
    Warn,
    Error,
    Critical,
}

impl Level {
    pub const ALL: [Level; 7] =
        [Level::Trace, Level::Debug, Level::Info, Level::Notice, Level::Warn, Level::Error, Level::Critical];

    /// Reads the usual spellings: `warn`, `WARNING`, `err`, `E`, `fatal`, syslog severities…
    pub fn parse(text: &str) -> Option<Level> {
        let lower = text.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "trace" | "trc" | "t" | "verbose" => Level::Trace,
            "debug" | "dbg" | "d" | "7" => Level::Debug,
            "info" | "inf" | "i" | "information" | "6" => Level::Info,
            "notice" | "5" => Level::Notice,
            "warn" | "warning" | "wrn" | "w" | "4" => Level::Warn,
            "error" | "err" | "e" | "3" => Level::Error,
            "critical" | "crit" | "fatal" | "panic" | "alert" | "emerg" | "emergency" | "c" | "f" | "0" | "1"
            | "2" => Level::Critical,
            _ => return None,
        })
    }

    /// Syslog severity (0 = emergency … 7 = debug) to a level.
    pub fn from_syslog_severity(severity: u8) -> Level {
        match severity {
            0..=2 => Level::Critical,
            3 => Level::Error,
            4 => Level::Warn,
            5 => Level::Notice,
            6 => Level::Info,
            _ => Level::Debug,
        }
    }

    /// The level an HTTP status implies for an access-log line.
    pub fn from_http_status(status: u16) -> Level {
        match status {
            500..=599 => Level::Error,
            400..=499 => Level::Warn,
            _ => Level::Info,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Notice => "notice",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Critical => "critical",
        }
    }

    pub fn is_problem(self) -> bool {
        self >= Level::Warn
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field value: logs are untyped, so numbers are recognised when a field looks like one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl Value {
    /// Guesses the type of a textual value (`"200"` → Int, `"0.25"` → Float, `"true"` → Bool).
    pub fn infer(text: &str) -> Value {
        if let Ok(int) = text.parse::<i64>() {
            return Value::Int(int);
        }
        if text.contains('.') || text.contains('e') || text.contains('E') {
            if let Ok(float) = text.parse::<f64>() {
                if float.is_finite() {
                    return Value::Float(float);
                }
            }
        }
        match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Str(text.to_string()),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(int) => Some(*int as f64),
            Value::Float(float) => Some(*float),
            Value::Bool(_) => None,
            Value::Str(text) => text.parse().ok(),
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(int) => Some(*int),
            Value::Float(float) if float.fract() == 0.0 => Some(*float as i64),
            Value::Str(text) => text.parse().ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Int(int) => *int != 0,
            Value::Float(float) => *float != 0.0,
            Value::Str(text) => !text.is_empty(),
        }
    }

    /// Compares numerically when both sides are numbers, else as text.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self.as_f64(), other.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => Some(self.to_string().cmp(&other.to_string())),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(int) => write!(f, "{int}"),
            Value::Float(float) => write!(f, "{float}"),
            Value::Str(text) => f.write_str(text),
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Str(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Str(text)
    }
}

impl From<i64> for Value {
    fn from(int: i64) -> Self {
        Value::Int(int)
    }
}

impl From<f64> for Value {
    fn from(float: f64) -> Self {
        Value::Float(float)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub timestamp: Option<DateTime<Utc>>,
    pub level: Level,
    /// Host, program or client the line came from, when the format says.
    pub source: Option<String>,
    pub message: String,
    pub fields: IndexMap<String, Value>,
    /// The format the line was parsed as.
    pub format: &'static str,
}

impl Record {
    pub fn new(format: &'static str, message: impl Into<String>) -> Self {
        Record { timestamp: None, level: Level::Info, source: None, message: message.into(), fields: IndexMap::new(), format }
    }

    pub fn with_field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(key.to_string(), value.into());
        self
    }

    /// A field, or one of the record's own attributes under its usual name.
    pub fn get(&self, key: &str) -> Option<Value> {
        match key {
            "level" => Some(Value::Str(self.level.as_str().to_string())),
            "message" | "msg" => Some(Value::Str(self.message.clone())),
            "source" | "host" if !self.fields.contains_key(key) => self.source.clone().map(Value::Str),
            "format" => Some(Value::Str(self.format.to_string())),
            "timestamp" | "time" if !self.fields.contains_key(key) => {
                self.timestamp.map(|t| Value::Int(t.timestamp_millis()))
            }
            _ => self.fields.get(key).cloned(),
        }
    }

    pub fn status(&self) -> Option<u16> {
        self.fields.get("status").and_then(Value::as_i64).and_then(|s| u16::try_from(s).ok())
    }

    /// Request duration in milliseconds, from the usual field names and units.
    pub fn duration_ms(&self) -> Option<f64> {
        const MILLIS: &[&str] = &["duration_ms", "latency_ms", "elapsed_ms", "took_ms", "request_time_ms"];
        const SECONDS: &[&str] = &["duration", "latency", "request_time", "elapsed", "upstream_response_time"];
        for key in MILLIS {
            if let Some(value) = self.fields.get(*key).and_then(Value::as_f64) {
                return Some(value);
            }
        }
        for key in SECONDS {
            if let Some(value) = self.fields.get(*key) {
                if let Some(text) = value.as_str() {
                    if let Some(ms) = crate::timefmt::parse_duration_ms(text) {
                        return Some(ms);
                    }
                }
                if let Some(seconds) = value.as_f64() {
                    return Some(seconds * 1000.0);
                }
            }
        }
        None
    }

    pub fn path(&self) -> Option<&str> {
        ["path", "uri", "url", "request_path"].iter().find_map(|key| self.fields.get(*key).and_then(Value::as_str))
    }

    pub fn client(&self) -> Option<&str> {
        ["client", "remote_addr", "ip", "client_ip"]
            .iter()
            .find_map(|key| self.fields.get(*key).and_then(Value::as_str))
            .or(self.source.as_deref())
    }

    pub fn bytes(&self) -> Option<u64> {
        ["bytes", "body_bytes_sent", "size", "bytes_sent"]
            .iter()
            .find_map(|key| self.fields.get(*key).and_then(Value::as_i64))
            .and_then(|b| u64::try_from(b).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_their_spellings() {
        assert_eq!(Level::parse("WARNING"), Some(Level::Warn));
        assert_eq!(Level::parse("fatal"), Some(Level::Critical));
        assert_eq!(Level::parse("nope"), None);
        assert!(Level::Error > Level::Warn);
    }

    #[test]
    fn values_are_inferred() {
        assert_eq!(Value::infer("200"), Value::Int(200));
        assert_eq!(Value::infer("0.5"), Value::Float(0.5));
        assert_eq!(Value::infer("GET"), Value::Str("GET".into()));
    }
}
