//! Sessions: a client's requests with no gap longer than the idle timeout.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::record::Record;

#[derive(Clone, Debug, Serialize)]
pub struct Session {
    pub client: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub requests: u64,
    pub errors: u64,
    pub paths: Vec<String>,
}

impl Session {
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}

#[derive(Debug)]
pub struct Sessionizer {
    idle: Duration,
    open: HashMap<String, Session>,
    closed: Vec<Session>,
    max_paths: usize,
}

impl Sessionizer {
    pub fn new(idle: Duration) -> Self {
        Sessionizer { idle, open: HashMap::new(), closed: Vec::new(), max_paths: 20 }
    }

    pub fn add(&mut self, record: &Record) {
        let (Some(client), Some(time)) = (record.client(), record.timestamp) else { return };
        let error = record.level.is_problem();
        if let Some(session) = self.open.get_mut(client) {
            if time - session.end <= self.idle {
                session.end = session.end.max(time);
                session.requests += 1;
                session.errors += error as u64;
                if session.paths.len() < self.max_paths {
                    if let Some(path) = record.path() {
                        session.paths.push(path.to_string());
                    }
                }
                return;
            }
            let finished = self.open.remove(client).expect("present");
            self.closed.push(finished);
        }
        self.open.insert(
            client.to_string(),
            Session {
                client: client.to_string(),
                start: time,
                end: time,
                requests: 1,
                errors: error as u64,
                paths: record.path().map(|p| vec![p.to_string()]).unwrap_or_default(),
            },
        );
    }

    /// Closes sessions idle at `now`; returns how many closed.
    pub fn expire(&mut self, now: DateTime<Utc>) -> usize {
        let idle = self.idle;
        let stale: Vec<String> = self.open.iter().filter(|(_, s)| now - s.end > idle).map(|(k, _)| k.clone()).collect();
        for key in &stale {
            if let Some(session) = self.open.remove(key) {
                self.closed.push(session);
            }
        }
        stale.len()
    }

    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    pub fn closed(&self) -> &[Session] {
        &self.closed
    }

    /// Closes every session and returns them all, longest first.
    pub fn finish(mut self) -> Vec<Session> {
        self.closed.extend(self.open.drain().map(|(_, s)| s));
        self.closed.sort_by(|a, b| b.duration().cmp(&a.duration()).then_with(|| a.client.cmp(&b.client)));
        self.closed
    }
}
