//! CSV output: one row per metric, for spreadsheets.

use super::{report_error, Report};
use crate::error::Result;

pub fn render(report: &Report) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["section", "key", "value"]).map_err(report_error)?;
    let s = &report.summary;
    let mut put = |section: &str, key: &str, value: String| writer.write_record([section, key, value.as_str()]).map_err(report_error);
    put("summary", "records", s.records.to_string())?;
    put("summary", "error_ratio", format!("{:.4}", s.error_ratio))?;
    put("summary", "bytes", s.bytes.to_string())?;
    put("summary", "skipped_lines", report.skipped_lines.to_string())?;
    for (name, value) in [("p50_ms", s.latency_p50_ms), ("p95_ms", s.latency_p95_ms), ("p99_ms", s.latency_p99_ms)] {
        if let Some(value) = value {
            put("latency", name, format!("{value:.3}"))?;
        }
    }
    for (level, count) in &s.levels {
        put("level", level, count.to_string())?;
    }
    for (class, count) in &s.status_classes {
        put("status", class, count.to_string())?;
    }
    for entry in &s.top_paths {
        put("path", &entry.key, entry.count.to_string())?;
    }
    for row in &report.templates {
        put("template", &row.template, row.count.to_string())?;
    }
    let bytes = writer.into_inner().map_err(report_error)?;
    String::from_utf8(bytes).map_err(report_error)
}
