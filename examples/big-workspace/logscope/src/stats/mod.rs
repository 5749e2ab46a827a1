//! Streaming statistics over records, folded into a mergeable [`Summary`].

mod histogram;
mod topk;
mod window;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use histogram::Histogram;
pub use topk::{Entry as TopEntry, TopK};
pub use window::{RateWindow, Rates};

use crate::record::{Level, Record};

#[derive(Clone, Debug)]
pub struct Summary {
    pub records: u64,
    pub by_level: BTreeMap<Level, u64>,
    pub by_format: BTreeMap<&'static str, u64>,
    /// "2xx", "4xx", … for access logs.
    pub status_classes: BTreeMap<String, u64>,
    pub latency_ms: Histogram,
    pub bytes: u64,
    pub paths: TopK,
    pub clients: TopK,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    pub window: RateWindow,
}

impl Default for Summary {
    fn default() -> Self {
        Summary::new(10)
    }
}

/// A snapshot of a summary for reports and JSON output.
#[derive(Clone, Debug, Serialize)]
pub struct SummaryView {
    pub records: u64,
    pub levels: BTreeMap<String, u64>,
    pub formats: BTreeMap<String, u64>,
    pub status_classes: BTreeMap<String, u64>,
    pub error_ratio: f64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub latency_max_ms: Option<f64>,
    pub bytes: u64,
    pub top_paths: Vec<TopEntry>,
    pub top_clients: Vec<TopEntry>,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    pub rates: Rates,
}

impl Summary {
    pub fn new(top: usize) -> Self {
        Summary {
            records: 0,
            by_level: BTreeMap::new(),
            by_format: BTreeMap::new(),
            status_classes: BTreeMap::new(),
            latency_ms: Histogram::new(0.01),
            bytes: 0,
            paths: TopK::new(top * 4),
            clients: TopK::new(top * 4),
            first: None,
            last: None,
            window: RateWindow::new(1, 60),
        }
    }

    pub fn add(&mut self, record: &Record) {
        self.records += 1;
        *self.by_level.entry(record.level).or_insert(0) += 1;
        *self.by_format.entry(record.format).or_insert(0) += 1;
        if let Some(status) = record.status() {
            *self.status_classes.entry(format!("{}xx", status / 100)).or_insert(0) += 1;
        }
        if let Some(ms) = record.duration_ms() {
            self.latency_ms.record(ms);
        }
        self.bytes += record.bytes().unwrap_or(0);
        if let Some(path) = record.path() {
            self.paths.add(&normalize_path(path));
        }
        if let Some(client) = record.client() {
            self.clients.add(client);
        }
        if let Some(time) = record.timestamp {
            self.first = Some(self.first.map_or(time, |first| first.min(time)));
            self.last = Some(self.last.map_or(time, |last| last.max(time)));
            self.window.add(time.timestamp(), record.level.is_problem());
        }
    }

    pub fn merge(&mut self, other: &Summary) {
        self.records += other.records;
        for (level, count) in &other.by_level {
            *self.by_level.entry(*level).or_insert(0) += count;
        }
        for (format, count) in &other.by_format {
            *self.by_format.entry(format).or_insert(0) += count;
        }
        for (class, count) in &other.status_classes {
            *self.status_classes.entry(class.clone()).or_insert(0) += count;
        }
        self.latency_ms.merge(&other.latency_ms);
        self.bytes += other.bytes;
        self.paths.merge(&other.paths);
        self.clients.merge(&other.clients);
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    pub fn problems(&self) -> u64 {
        self.by_level.iter().filter(|(level, _)| level.is_problem()).map(|(_, count)| count).sum()
    }

    pub fn error_ratio(&self) -> f64 {
        if self.records == 0 {
            0.0
        } else {
            self.problems() as f64 / self.records as f64
        }
    }

    pub fn view(&self, top: usize) -> SummaryView {
        SummaryView {
            records: self.records,
            levels: self.by_level.iter().map(|(l, c)| (l.to_string(), *c)).collect(),
            formats: self.by_format.iter().map(|(f, c)| (f.to_string(), *c)).collect(),
            status_classes: self.status_classes.clone(),
            error_ratio: self.error_ratio(),
            latency_p50_ms: self.latency_ms.p50(),
            latency_p95_ms: self.latency_ms.p95(),
            latency_p99_ms: self.latency_ms.p99(),
            latency_max_ms: self.latency_ms.max(),
            bytes: self.bytes,
            top_paths: self.paths.top(top),
            top_clients: self.clients.top(top),
            first: self.first,
            last: self.last,
            rates: self.window.rates(),
        }
    }
}

/// Collapses ids in paths so `/users/123/orders/9f8e…` and `/users/7/orders/…` count together.
pub fn normalize_path(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| {
            let numeric = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
            let hexish = segment.len() >= 16 && segment.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
            if numeric || hexish {
                ":id".to_string()
            } else {
                segment.to_string()
            }
        })
        .collect();
    segments.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_ids_in_paths() {
        assert_eq!(normalize_path("/users/123/orders?x=1"), "/users/:id/orders");
        assert_eq!(normalize_path("/o/0123456789abcdef0123"), "/o/:id");
        assert_eq!(normalize_path("/static/app.js"), "/static/app.js");
    }
}
