//! Output: a report is built once from the engine's state and rendered as text, JSON, CSV or
//! Markdown.

mod csv_out;
mod json_out;
mod markdown;
mod table;

use serde::Serialize;

use crate::anomaly::Alert;
use crate::error::{Error, Result};
use crate::pipeline::TickSummary;
use crate::stats::SummaryView;
use crate::timefmt::format_ms;

pub use table::{Align, Table};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Text,
    Json,
    Csv,
    Markdown,
}

impl OutputFormat {
    pub fn from_name(name: &str) -> Option<OutputFormat> {
        match name {
            "text" | "txt" => Some(OutputFormat::Text),
            "json" => Some(OutputFormat::Json),
            "csv" => Some(OutputFormat::Csv),
            "markdown" | "md" => Some(OutputFormat::Markdown),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct TemplateRow {
    pub count: u64,
    pub template: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub title: String,
    pub summary: SummaryView,
    pub templates: Vec<TemplateRow>,
    pub alerts: Vec<Alert>,
    pub skipped_lines: u64,
}

impl Report {
    pub fn render(&self, format: OutputFormat) -> Result<String> {
        match format {
            OutputFormat::Text => Ok(self.text()),
            OutputFormat::Json => json_out::render(self),
            OutputFormat::Csv => csv_out::render(self),
            OutputFormat::Markdown => Ok(markdown::render(self)),
        }
    }

    pub fn text(&self) -> String {
        let s = &self.summary;
        let mut out = String::new();
        out.push_str(&format!("{}\n{}\n", self.title, "=".repeat(self.title.chars().count())));
        out.push_str(&format!(
            "{} records, {:.1}% problems, {} skipped lines, {}\n",
            s.records,
            s.error_ratio * 100.0,
            self.skipped_lines,
            human_bytes(s.bytes)
        ));
        if let (Some(first), Some(last)) = (s.first, s.last) {
            out.push_str(&format!("from {} to {}\n", first.format("%Y-%m-%d %H:%M:%S"), last.format("%Y-%m-%d %H:%M:%S")));
        }
        out.push('\n');
        let mut levels = Table::new(vec!["level", "records"]).align(1, Align::Right);
        for (level, count) in &s.levels {
            levels.row(vec![level.clone(), count.to_string()]);
        }
        out.push_str(&levels.render());
        if let Some(p50) = s.latency_p50_ms {
            out.push_str(&format!(
                "\nlatency: p50 {} p95 {} p99 {} max {}\n",
                format_ms(p50),
                s.latency_p95_ms.map_or("-".into(), format_ms),
                s.latency_p99_ms.map_or("-".into(), format_ms),
                s.latency_max_ms.map_or("-".into(), format_ms)
            ));
        }
        if !s.top_paths.is_empty() {
            let mut paths = Table::new(vec!["path", "requests"]).align(1, Align::Right);
            for entry in &s.top_paths {
                paths.row(vec![entry.key.clone(), entry.count.to_string()]);
            }
            out.push('\n');
            out.push_str(&paths.render());
        }
        if !self.templates.is_empty() {
            let mut templates = Table::new(vec!["count", "message template"]).align(0, Align::Right).max_width(1, 70);
            for row in &self.templates {
                templates.row(vec![row.count.to_string(), row.template.clone()]);
            }
            out.push('\n');
            out.push_str(&templates.render());
        }
        for alert in &self.alerts {
            out.push_str(&format!("\nalert: {}", alert.describe()));
        }
        out
    }
}

/// `1.5 KiB`, `12.0 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The one line `logscope watch` prints per tick.
pub fn tick_line(tick: &TickSummary) -> String {
    let mut line = format!(
        "tick {}: {} lines, {} matched, {:.1}% errors, p95 {}, top {}",
        tick.tick,
        tick.lines,
        tick.matched,
        tick.error_ratio * 100.0,
        tick.p95_ms.map_or_else(|| "-".to_string(), format_ms),
        tick.top_path.as_deref().unwrap_or("-"),
    );
    line.push_str(&format!(" | total {}", tick.total_records));
    if let Some(alert) = tick.alerts.first() {
        line.push_str(&format!(" | ALERT {}", alert.describe()));
    }
    line
}

pub(crate) fn report_error(err: impl std::fmt::Display) -> Error {
    Error::Report(err.to_string())
}
