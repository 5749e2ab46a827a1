//! logfmt: `time=2024-01-01T00:00:00Z level=info msg="user logged in" user=42 took=12ms`.

use crate::error::{Error, Result};
use crate::record::{Level, Record, Value};
use crate::timefmt;

/// Splits a logfmt line into key/value pairs. Values may be bare, or double-quoted with `\"`,
/// `\\`, `\n` and `\t` escapes; a key without `=` is a flag with an empty value.
pub fn tokenize_logfmt(line: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            if chars[i] == '"' {
                return Err(format!("unexpected quote in a key at column {}", i + 1));
            }
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        if i >= chars.len() || chars[i].is_whitespace() {
            pairs.push((key, String::new()));
            continue;
        }
        i += 1; // '='
        let mut value = String::new();
        if i < chars.len() && chars[i] == '"' {
            i += 1;
            let mut closed = false;
            while i < chars.len() {
                match chars[i] {
                    '\\' if i + 1 < chars.len() => {
                        value.push(match chars[i + 1] {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                        i += 2;
                    }
                    '"' => {
                        closed = true;
                        i += 1;
                        break;
                    }
                    other => {
                        value.push(other);
                        i += 1;
                    }
                }
            }
            if !closed {
                return Err(format!("unterminated quoted value for {key:?}"));
            }
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                value.push(chars[i]);
                i += 1;
            }
        }
        if key.is_empty() {
            return Err(format!("empty key before column {}", i + 1));
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

pub fn parse_logfmt(line: &str, number: usize) -> Result<Record> {
    let pairs = tokenize_logfmt(line).map_err(|reason| Error::parse(number, "logfmt", reason))?;
    if pairs.iter().filter(|(_, value)| !value.is_empty()).count() < 2 {
        return Err(Error::parse(number, "logfmt", "fewer than two key=value pairs"));
    }
    let mut record = Record::new("logfmt", String::new());
    for (key, value) in pairs {
        match key.as_str() {
            "time" | "ts" | "timestamp" | "t" if record.timestamp.is_none() => {
                record.timestamp = timefmt::parse_timestamp(&value);
                if record.timestamp.is_none() {
                    record.fields.insert(key, Value::Str(value));
                }
            }
            "level" | "lvl" | "severity" => match Level::parse(&value) {
                Some(level) => record.level = level,
                None => {
                    record.fields.insert(key, Value::Str(value));
                }
            },
            "msg" | "message" if record.message.is_empty() => record.message = value,
            "host" | "hostname" | "service" | "app" if record.source.is_none() => record.source = Some(value),
            "took" | "duration" | "elapsed" | "latency" => {
                match timefmt::parse_duration_ms(&value) {
                    Some(ms) => record.fields.insert("duration_ms".to_string(), Value::Float(ms)),
                    None => record.fields.insert(key, Value::Str(value)),
                };
            }
            _ => {
                record.fields.insert(key, Value::infer(&value));
            }
        }
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_quotes_and_flags() {
        let pairs = tokenize_logfmt(r#"a=1 b="two words" c="say \"hi\"" flag"#).unwrap();
        assert_eq!(pairs[1], ("b".into(), "two words".into()));
        assert_eq!(pairs[2], ("c".into(), "say \"hi\"".into()));
        assert_eq!(pairs[3], ("flag".into(), String::new()));
        assert!(tokenize_logfmt(r#"a="open"#).is_err());
    }

    #[test]
    fn parses_a_record() {
        let record = parse_logfmt(r#"time=2024-01-01T00:00:00Z level=error msg="db down" took=1.5s status=500"#, 1).unwrap();
        assert_eq!(record.level, Level::Error);
        assert_eq!(record.message, "db down");
        assert_eq!(record.duration_ms(), Some(1500.0));
        assert_eq!(record.status(), Some(500));
    }
}
