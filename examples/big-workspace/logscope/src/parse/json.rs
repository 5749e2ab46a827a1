//! JSON lines: one object per line, with the common key spellings of loggers (bunyan, pino,
//! zap, logrus, serilog, tracing-subscriber's JSON layer).

use serde_json::{Map, Value as Json};

use crate::error::{Error, Result};
use crate::record::{Level, Record, Value};
use crate::timefmt;

const TIME_KEYS: &[&str] = &["timestamp", "time", "ts", "@timestamp", "date", "t"];
const LEVEL_KEYS: &[&str] = &["level", "severity", "lvl", "loglevel", "@level", "log.level"];
const MESSAGE_KEYS: &[&str] = &["message", "msg", "@message", "text", "event"];
const SOURCE_KEYS: &[&str] = &["host", "hostname", "service", "logger", "name", "target"];

pub fn parse_json(line: &str, number: usize) -> Result<Record> {
    let value: Json = serde_json::from_str(line.trim()).map_err(|err| Error::parse(number, "json", err.to_string()))?;
    let Json::Object(object) = value else {
        return Err(Error::parse(number, "json", "not a JSON object"));
    };
    let mut record = Record::new("json", String::new());
    let mut used: Vec<&str> = Vec::new();

    if let Some((key, time)) = first(&object, TIME_KEYS) {
        record.timestamp = match time {
            Json::String(text) => timefmt::parse_timestamp(text),
            Json::Number(n) => n.as_f64().and_then(|f| timefmt::parse_timestamp(&format!("{f}"))),
            _ => None,
        };
        if record.timestamp.is_some() {
            used.push(key);
        }
    }
    if let Some((key, level)) = first(&object, LEVEL_KEYS) {
        let parsed = match level {
            Json::String(text) => Level::parse(text),
            // bunyan/pino: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
            Json::Number(n) => n.as_u64().map(|n| match n {
                0..=10 => Level::Trace,
                11..=20 => Level::Debug,
                21..=30 => Level::Info,
                31..=40 => Level::Warn,
                41..=50 => Level::Error,
                _ => Level::Critical,
            }),
            _ => None,
        };
        if let Some(level) = parsed {
            record.level = level;
            used.push(key);
        }
    }
    if let Some((key, message)) = first(&object, MESSAGE_KEYS) {
        record.message = match message {
            Json::String(text) => text.clone(),
            other => other.to_string(),
        };
        used.push(key);
    }
    if let Some((key, Json::String(source))) = first(&object, SOURCE_KEYS) {
        record.source = Some(source.clone());
        used.push(key);
    }
    for (key, value) in &object {
        if used.contains(&key.as_str()) {
            continue;
        }
        flatten(key, value, &mut record);
    }
    if record.message.is_empty() {
        record.message = line.trim().to_string();
    }
    Ok(record)
}

fn first<'a>(object: &'a Map<String, Json>, keys: &[&'static str]) -> Option<(&'static str, &'a Json)> {
    keys.iter().find_map(|key| object.get(*key).map(|value| (*key, value)))
}

/// Nested objects become dotted keys (`http.status`), and the common ones get short aliases.
fn flatten(prefix: &str, value: &Json, record: &mut Record) {
    match value {
        Json::Object(inner) => {
            for (key, value) in inner {
                flatten(&format!("{prefix}.{key}"), value, record);
            }
        }
        Json::Null => {}
        other => {
            let converted = convert(other);
            let alias = match prefix {
                "http.status" | "http.status_code" | "status_code" | "response.status" => Some("status"),
                "http.method" | "request.method" => Some("method"),
                "http.path" | "http.url" | "request.path" | "url.path" => Some("path"),
                "http.duration_ms" | "response_time" | "responseTime" => Some("duration_ms"),
                "client.ip" | "remote_ip" | "http.client_ip" => Some("client"),
                _ => None,
            };
            if let Some(alias) = alias {
                record.fields.entry(alias.to_string()).or_insert_with(|| converted.clone());
            }
            record.fields.insert(prefix.to_string(), converted);
        }
    }
}

fn convert(value: &Json) -> Value {
    match value {
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n.as_i64().map(Value::Int).unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0))),
        Json::String(text) => Value::Str(text.clone()),
        other => Value::Str(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_structured_line() {
        let line = r#"{"ts":"2024-03-01T10:00:00Z","level":"warn","msg":"slow request","http":{"status":503,"path":"/api/x"},"duration_ms":912}"#;
        let record = parse_json(line, 1).unwrap();
        assert_eq!(record.level, Level::Warn);
        assert_eq!(record.message, "slow request");
        assert_eq!(record.status(), Some(503));
        assert_eq!(record.path(), Some("/api/x"));
        assert_eq!(record.duration_ms(), Some(912.0));
    }
}
