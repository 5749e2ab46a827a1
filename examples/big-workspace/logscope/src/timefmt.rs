//! Timestamps and durations as logs spell them.

use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Parses the timestamp formats logs use, in order of how common they are:
/// RFC 3339 / ISO 8601, the access-log `10/Oct/2000:13:55:36 -0700`, `2024-01-02 03:04:05[.sss]`,
/// and Unix epochs in seconds or milliseconds.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim().trim_matches(|c| c == '[' || c == ']');
    if text.is_empty() {
        return None;
    }
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(parsed.with_timezone(&Utc));
    }
    if let Ok(parsed) = DateTime::parse_from_str(text, "%d/%b/%Y:%H:%M:%S %z") {
        return Some(parsed.with_timezone(&Utc));
    }
    for pattern in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y/%m/%d %H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, pattern) {
            return Some(Utc.from_utc_datetime(&naive));
        }
    }
    parse_epoch(text)
}

fn parse_epoch(text: &str) -> Option<DateTime<Utc>> {
    if !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    // Anything past the year 5000 in seconds is milliseconds.
    let seconds = if value > 95_617_584_000.0 { value / 1000.0 } else { value };
    let whole = seconds.trunc() as i64;
    let nanos = ((seconds - seconds.trunc()) * 1e9).round() as u32;
    Utc.timestamp_opt(whole, nanos.min(999_999_999)).single()
}

/// Syslog's RFC 3164 `Oct 11 22:14:15` has no year; `reference` supplies it (a December line
/// read in January belongs to the previous year).
pub fn parse_syslog_timestamp(text: &str, reference: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let with_year = format!("{} {}", reference.year(), text.split_whitespace().collect::<Vec<_>>().join(" "));
    let naive = NaiveDateTime::parse_from_str(&with_year, "%Y %b %d %H:%M:%S").ok()?;
    let candidate = Utc.from_utc_datetime(&naive);
    if candidate > reference + chrono::Duration::days(1) {
        let previous = NaiveDate::from_ymd_opt(reference.year() - 1, naive.month(), naive.day())?
            .and_time(naive.time());
        return Some(Utc.from_utc_datetime(&previous));
    }
    Some(candidate)
}

/// `"250ms"`, `"1.5s"`, `"2m"`, `"0.003"` (seconds, as nginx writes them) → milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Some(seconds * 1000.0);
    }
    let split = text.find(|c: char| c.is_ascii_alphabetic() || c == 'µ')?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.trim().parse().ok()?;
    let factor = match unit.trim() {
        "ns" => 1e-6,
        "us" | "µs" => 1e-3,
        "ms" => 1.0,
        "s" | "sec" => 1000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return humantime::parse_duration(text).ok().map(|d| d.as_secs_f64() * 1000.0),
    };
    Some(number * factor)
}

/// A short human duration: `850ms`, `12.3s`, `4m 10s`, `2h 5m`.
pub fn format_duration_short(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let seconds = duration.as_secs_f64();
    if seconds < 60.0 {
        return format!("{seconds:.1}s");
    }
    let whole = duration.as_secs();
    if whole < 3600 {
        return format!("{}m {}s", whole / 60, whole % 60);
    }
    format!("{}h {}m", whole / 3600, (whole % 3600) / 60)
}

/// A millisecond figure with a unit that keeps it short: `0.42ms`, `12ms`, `1.25s`.
pub fn format_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.2}ms")
    } else if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else {
        format!("{:.2}s", ms / 1000.0)
    }
}

/// The access-log spelling of a time, for generated lines.
pub fn format_clf(time: DateTime<Utc>) -> String {
    time.with_timezone(&FixedOffset::east_opt(0).expect("UTC offset")).format("%d/%b/%Y:%H:%M:%S %z").to_string()
}

/// Truncates a time to the start of its bucket of `width` seconds.
pub fn bucket_start(time: DateTime<Utc>, width: i64) -> DateTime<Utc> {
    let width = width.max(1);
    let seconds = time.timestamp().div_euclid(width) * width;
    Utc.timestamp_opt(seconds, 0).single().unwrap_or(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_timestamps() {
        let clf = parse_timestamp("10/Oct/2000:13:55:36 -0700").unwrap();
        assert_eq!(clf.to_rfc3339(), "2000-10-10T20:55:36+00:00");
        assert!(parse_timestamp("2024-01-02T03:04:05Z").is_some());
        assert!(parse_timestamp("1700000000").is_some());
        assert!(parse_timestamp("1700000000123").is_some());
        assert!(parse_timestamp("yesterday").is_none());
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration_ms("250ms"), Some(250.0));
        assert_eq!(parse_duration_ms("1.5s"), Some(1500.0));
        assert_eq!(parse_duration_ms("0.003"), Some(3.0));
    }
}
