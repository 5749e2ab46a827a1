//! Markdown output, for pasting into an incident ticket.

use super::{human_bytes, Report};
use crate::timefmt::format_ms;

fn escape(cell: &str) -> String {
    cell.replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = format!("## {}\n\n", escape(&report.title));
    out.push_str(&format!(
        "- **{}** records, **{:.1}%** problems, {} skipped\n- {} transferred\n",
        s.records,
        s.error_ratio * 100.0,
        report.skipped_lines,
        human_bytes(s.bytes)
    ));
    if let (Some(p50), Some(p99)) = (s.latency_p50_ms, s.latency_p99_ms) {
        out.push_str(&format!("- latency p50 {} / p99 {}\n", format_ms(p50), format_ms(p99)));
    }
    out.push_str("\n| level | records |\n|---|---:|\n");
    for (level, count) in &s.levels {
        out.push_str(&format!("| {level} | {count} |\n"));
    }
    if !s.top_paths.is_empty() {
        out.push_str("\n| path | requests |\n|---|---:|\n");
        for entry in &s.top_paths {
            out.push_str(&format!("| `{}` | {} |\n", escape(&entry.key), entry.count));
        }
    }
    if !report.templates.is_empty() {
        out.push_str("\n| count | template |\n|---:|---|\n");
        for row in &report.templates {
            out.push_str(&format!("| {} | `{}` |\n", row.count, escape(&row.template)));
        }
    }
    if !report.alerts.is_empty() {
        out.push_str("\n### Alerts\n\n");
        for alert in &report.alerts {
            out.push_str(&format!("- {}\n", escape(&alert.describe())));
        }
    }
    out
}
