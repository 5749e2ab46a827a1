//! The combined access-log format:
//! `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "ref" "agent" 0.012`
//! (the trailing request time is nginx's optional `$request_time`).

use once_cell::sync::Lazy;
use regex::Regex;

use crate::error::{Error, Result};
use crate::record::{Level, Record, Value};
use crate::timefmt;

static COMBINED: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r#"^(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-)(?: "(?P<referer>[^"]*)" "(?P<agent>[^"]*)")?(?: (?P<rt>\d+(?:\.\d+)?))?\s*$"#,
    )
    .expect("the combined-format pattern compiles")
});

pub fn parse_clf(line: &str, number: usize) -> Result<Record> {
    let captures = COMBINED.captures(line).ok_or_else(|| Error::parse(number, "combined", "not an access-log line"))?;
    let request = captures.name("request").map_or("", |m| m.as_str());
    let mut parts = request.splitn(3, ' ');
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    let protocol = parts.next().unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let status: u16 = captures["status"].parse().map_err(|_| Error::parse(number, "combined", "bad status"))?;

    let mut record = Record::new("combined", request.to_string());
    record.timestamp = timefmt::parse_timestamp(&captures["time"]);
    record.level = Level::from_http_status(status);
    record.source = Some(captures["client"].to_string());
    let fields = &mut record.fields;
    fields.insert("client".into(), Value::Str(captures["client"].to_string()));
    if &captures["user"] != "-" {
        fields.insert("user".into(), Value::Str(captures["user"].to_string()));
    }
    fields.insert("method".into(), Value::Str(method.to_string()));
    fields.insert("path".into(), Value::Str(path.to_string()));
    if !query.is_empty() {
        fields.insert("query".into(), Value::Str(query.to_string()));
    }
    if !protocol.is_empty() {
        fields.insert("protocol".into(), Value::Str(protocol.to_string()));
    }
    fields.insert("status".into(), Value::Int(status as i64));
    let bytes = &captures["bytes"];
    fields.insert("bytes".into(), Value::Int(if bytes == "-" { 0 } else { bytes.parse().unwrap_or(0) }));
    for name in ["referer", "agent"] {
        if let Some(found) = captures.name(name) {
            if found.as_str() != "-" && !found.as_str().is_empty() {
                fields.insert(name.into(), Value::Str(found.as_str().to_string()));
            }
        }
    }
    if let Some(rt) = captures.name("rt") {
        if let Ok(seconds) = rt.as_str().parse::<f64>() {
            fields.insert("duration_ms".into(), Value::Float(seconds * 1000.0));
        }
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_combined_line() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1 HTTP/1.0" 404 2326 "http://example.com/" "Mozilla/4.08" 0.125"#;
        let record = parse_clf(line, 1).unwrap();
        assert_eq!(record.status(), Some(404));
        assert_eq!(record.path(), Some("/apache_pb.gif"));
        assert_eq!(record.level, Level::Warn);
        assert_eq!(record.duration_ms(), Some(125.0));
        assert_eq!(record.bytes(), Some(2326));
    }
}
