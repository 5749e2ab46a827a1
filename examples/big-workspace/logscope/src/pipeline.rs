//! The engine: parse (in parallel), redact, filter, and fold records into the running
//! statistics, template miner, anomaly detector and sessions — for a whole file or tick by tick.

use chrono::{Duration, Utc};
use rayon::prelude::*;
use serde::Serialize;

use crate::anomaly::{Alert, Detector};
use crate::config::Config;
use crate::error::Result;
use crate::fingerprint::Deduplicator;
use crate::parse::{detect, Format};
use crate::query::Query;
use crate::record::Record;
use crate::redact::Redactor;
use crate::report::{Report, TemplateRow};
use crate::session::Sessionizer;
use crate::stats::Summary;
use crate::templates::Miner;

/// What one tick (one batch of lines) of a stream looked like.
#[derive(Clone, Debug, Serialize)]
pub struct TickSummary {
    pub tick: u64,
    pub lines: usize,
    pub parsed: usize,
    pub matched: usize,
    pub error_ratio: f64,
    pub p95_ms: Option<f64>,
    pub top_path: Option<String>,
    pub total_records: u64,
    pub templates: usize,
    pub open_sessions: usize,
    pub alerts: Vec<Alert>,
}

pub struct Engine {
    config: Config,
    format: Option<Format>,
    query: Query,
    redactor: Redactor,
    summary: Summary,
    miner: Miner,
    detector: Detector,
    sessions: Sessionizer,
    dedupe: Deduplicator,
    alerts: Vec<Alert>,
    skipped: u64,
    ticks: u64,
}

impl Engine {
    pub fn new(config: Config) -> Result<Engine> {
        config.validate()?;
        let query = Query::parse(&config.query)?;
        let redactor = Redactor::new(&config.redact)?;
        let format = if config.format == "auto" { None } else { Format::from_name(&config.format) };
        Ok(Engine {
            summary: Summary::new(config.top),
            miner: Miner::new(config.templates.similarity),
            detector: Detector::new(config.anomaly.threshold, config.anomaly.warmup, config.anomaly.alpha),
            sessions: Sessionizer::new(Duration::seconds(config.session_idle_seconds)),
            dedupe: Deduplicator::new(4096),
            alerts: Vec::new(),
            skipped: 0,
            ticks: 0,
            format,
            query,
            redactor,
            config,
        })
    }

    pub fn format(&self) -> Option<Format> {
        self.format
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// Parses lines in parallel, in order; lines no parser reads are counted as skipped.
    fn parse_lines(&mut self, lines: &[String], first_line: usize) -> Vec<Record> {
        let format = match self.format {
            Some(format) => format,
            None => {
                let detected = detect(lines, 200);
                log::debug!("detected {} ({:.0}% of {} lines)", detected.format, detected.confidence * 100.0, detected.sampled);
                self.format = Some(detected.format);
                detected.format
            }
        };
        let parsed: Vec<Option<Record>> = lines
            .par_iter()
            .enumerate()
            .map(|(i, line)| {
                if line.trim().is_empty() {
                    return None;
                }
                format.parse(line, first_line + i).ok()
            })
            .collect();
        let nonempty = lines.iter().filter(|l| !l.trim().is_empty()).count();
        let records: Vec<Record> = parsed.into_iter().flatten().collect();
        self.skipped += (nonempty - records.len()) as u64;
        records
    }

    fn fold(&mut self, mut records: Vec<Record>) -> (Summary, usize) {
        let mut tick = Summary::new(self.config.top);
        let mut matched = 0;
        for record in records.iter_mut() {
            self.redactor.record(record);
            if !self.query.matches(record) || self.dedupe.seen(record) {
                continue;
            }
            matched += 1;
            tick.add(record);
            self.sessions.add(record);
            if self.config.templates.enabled {
                self.miner.add(&record.message);
            }
        }
        self.summary.merge(&tick);
        (tick, matched)
    }

    /// One tick of a stream: the batch's lines in, the tick's summary out.
    pub fn process_batch(&mut self, lines: &[String]) -> TickSummary {
        self.ticks += 1;
        let first_line = self.summary.records as usize + self.skipped as usize + 1;
        let records = self.parse_lines(lines, first_line);
        let parsed = records.len();
        let (tick, matched) = self.fold(records);
        let p95 = tick.latency_ms.p95();
        let alerts = self.detector.observe(&[
            ("requests", matched as f64),
            ("error ratio", tick.error_ratio()),
            ("p95 latency", p95.unwrap_or(0.0)),
        ]);
        self.alerts.extend(alerts.iter().cloned());
        if let Some(last) = self.summary.last {
            self.sessions.expire(last);
        }
        TickSummary {
            tick: self.ticks,
            lines: lines.len(),
            parsed,
            matched,
            error_ratio: tick.error_ratio(),
            p95_ms: p95,
            top_path: tick.paths.top(1).first().map(|e| e.key.clone()),
            total_records: self.summary.records,
            templates: self.miner.len(),
            open_sessions: self.sessions.open_count(),
            alerts,
        }
    }

    /// A whole file's lines at once, in chunks so memory stays flat.
    pub fn process_all(&mut self, lines: &[String]) {
        let mut first_line = 1;
        for chunk in lines.chunks(16_384) {
            let records = self.parse_lines(chunk, first_line);
            self.fold(records);
            first_line += chunk.len();
        }
    }

    pub fn report(&self, title: &str) -> Report {
        Report {
            title: title.to_string(),
            summary: self.summary.view(self.config.top),
            templates: self
                .miner
                .top(self.config.templates.show)
                .into_iter()
                .map(|t| TemplateRow { count: t.count, template: t.text() })
                .collect(),
            alerts: self.alerts.clone(),
            skipped_lines: self.skipped,
        }
    }

    /// Sessions so far (closing the open ones), longest first.
    pub fn sessions(self) -> Vec<crate::session::Session> {
        self.sessions.finish()
    }

    /// When the engine last saw a record, for status lines.
    pub fn idle_for(&self) -> Option<std::time::Duration> {
        self.summary.last.and_then(|last| (Utc::now() - last).to_std().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::Generator;

    #[test]
    fn processes_a_generated_stream() {
        let mut engine = Engine::new(Config::default()).unwrap();
        let mut generator = Generator::new(1, Format::Combined, Utc::now());
        let mut total = 0;
        for _ in 0..5 {
            let lines = generator.batch(200, Duration::seconds(1));
            let tick = engine.process_batch(&lines);
            assert_eq!(tick.parsed, 200);
            total += tick.matched as u64;
        }
        assert_eq!(engine.format(), Some(Format::Combined));
        assert_eq!(engine.summary().records, total);
        let report = engine.report("test");
        assert!(report.text().contains("records"));
        assert!(report.render(crate::report::OutputFormat::Csv).unwrap().starts_with("section,key,value"));
    }

    #[test]
    fn a_query_filters_the_stream() {
        let config = Config { query: "status >= 500".into(), ..Config::default() };
        let mut engine = Engine::new(config).unwrap();
        let mut generator = Generator::new(2, Format::JsonLines, Utc::now());
        generator.incident(1);
        let tick = engine.process_batch(&generator.batch(300, Duration::seconds(1)));
        assert!(tick.matched > 0 && tick.matched < 300, "{tick:?}");
        assert!((tick.error_ratio - 1.0).abs() < 1e-9);
    }
}
