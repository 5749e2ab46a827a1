//! Syslog, both generations:
//! - RFC 3164: `<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8`
//! - RFC 5424: `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] message`
//!
//! The `<PRI>` part is optional for 3164 (what `journalctl -o short` and /var/log/syslog show).

use chrono::Utc;
use once_cell::sync::Lazy;
use regex::Regex;

use crate::error::{Error, Result};
use crate::record::{Level, Record, Value};
use crate::timefmt;

static RFC5424: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^<(?P<pri>\d{1,3})>1 (?P<time>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) (?P<rest>.*)$")
        .expect("the RFC 5424 pattern compiles")
});

static RFC3164: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"^(?:<(?P<pri>\d{1,3})>)?(?P<time>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (?P<host>\S+) (?P<tag>[^:\[\s]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)$",
    )
    .expect("the RFC 3164 pattern compiles")
});

static SD_PARAM: Lazy<Regex> =
    Lazy::new(|| Regex::new(r#"(?P<key>[^\s=\]"]+)="(?P<value>(?:[^"\\]|\\.)*)""#).expect("the SD-PARAM pattern compiles"));

const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp",
    "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];

fn apply_priority(record: &mut Record, pri: &str) {
    if let Ok(pri) = pri.parse::<u16>() {
        if pri < 192 {
            record.level = Level::from_syslog_severity((pri % 8) as u8);
            record.fields.insert("facility".into(), Value::Str(FACILITIES[(pri / 8) as usize].to_string()));
        }
    }
}

pub fn parse_syslog(line: &str, number: usize) -> Result<Record> {
    if let Some(captures) = RFC5424.captures(line) {
        let mut record = Record::new("syslog", String::new());
        apply_priority(&mut record, &captures["pri"]);
        record.timestamp = timefmt::parse_timestamp(&captures["time"]);
        record.source = nil(&captures["host"]);
        if let Some(app) = nil(&captures["app"]) {
            record.fields.insert("app".into(), Value::Str(app));
        }
        if let Some(pid) = nil(&captures["procid"]) {
            record.fields.insert("pid".into(), Value::infer(&pid));
        }
        if let Some(msgid) = nil(&captures["msgid"]) {
            record.fields.insert("msgid".into(), Value::Str(msgid));
        }
        let rest = &captures["rest"];
        let message = structured_data(rest, &mut record);
        record.message = message.trim_start_matches('\u{feff}').to_string();
        return Ok(record);
    }
    if let Some(captures) = RFC3164.captures(line) {
        let mut record = Record::new("syslog", captures["msg"].to_string());
        if let Some(pri) = captures.name("pri") {
            apply_priority(&mut record, pri.as_str());
        } else if let Some(level) = level_from_message(&record.message) {
            record.level = level;
        }
        record.timestamp = timefmt::parse_syslog_timestamp(&captures["time"], Utc::now());
        record.source = Some(captures["host"].to_string());
        record.fields.insert("app".into(), Value::Str(captures["tag"].to_string()));
        if let Some(pid) = captures.name("pid") {
            record.fields.insert("pid".into(), Value::infer(pid.as_str()));
        }
        return Ok(record);
    }
    Err(Error::parse(number, "syslog", "neither RFC 5424 nor RFC 3164"))
}

fn nil(value: &str) -> Option<String> {
    (value != "-").then(|| value.to_string())
}

/// Reads `[id k="v" …][id2 …]` into `id.k` fields; returns the message after it.
fn structured_data<'a>(rest: &'a str, record: &mut Record) -> &'a str {
    if let Some(stripped) = rest.strip_prefix("- ") {
        return stripped;
    }
    if rest == "-" {
        return "";
    }
    let mut remaining = rest;
    while remaining.starts_with('[') {
        let Some(end) = find_element_end(remaining) else { break };
        let element = &remaining[1..end];
        let id = element.split_whitespace().next().unwrap_or("sd");
        for captures in SD_PARAM.captures_iter(element) {
            let value = captures["value"].replace("\\\"", "\"").replace("\\]", "]").replace("\\\\", "\\");
            record.fields.insert(format!("{id}.{}", &captures["key"]), Value::infer(&value));
        }
        remaining = &remaining[end + 1..];
    }
    remaining.trim_start()
}

fn find_element_end(text: &str) -> Option<usize> {
    let mut escaped = false;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ']' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

fn level_from_message(message: &str) -> Option<Level> {
    let lower = message.to_ascii_lowercase();
    if lower.contains("error") || lower.contains("failed") || lower.contains("failure") {
        Some(Level::Error)
    } else if lower.contains("warn") {
        Some(Level::Warn)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3164() {
        let record = parse_syslog("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick", 1).unwrap();
        assert_eq!(record.level, Level::Critical);
        assert_eq!(record.source.as_deref(), Some("mymachine"));
        assert_eq!(record.get("app"), Some(Value::Str("su".into())));
    }

    #[test]
    fn parses_rfc5424_with_structured_data() {
        let line = r#"<165>1 2003-10-11T22:14:15.003Z host.example evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event"#;
        let record = parse_syslog(line, 1).unwrap();
        assert_eq!(record.level, Level::Notice);
        assert_eq!(record.message, "An application event");
        assert_eq!(record.get("exampleSDID@32473.iut"), Some(Value::Int(3)));
    }
}
