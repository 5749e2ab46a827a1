//! What the service keeps in memory while it runs (and across patches).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

pub struct AppState {
    requests: AtomicU64,
    started: Instant,
    per_route: Mutex<BTreeMap<String, u64>>,
    notes: Mutex<Vec<Note>>,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Note {
    pub id: u64,
    pub text: String,
}

impl AppState {
    pub fn new() -> Self {
        AppState {
            requests: AtomicU64::new(0),
            started: Instant::now(),
            per_route: Mutex::new(BTreeMap::new()),
            notes: Mutex::new(Vec::new()),
        }
    }

    /// Counts one request on `route`; the request's number (1 for the first).
    pub fn count(&self, route: &str) -> u64 {
        *self.per_route.lock().unwrap().entry(route.to_string()).or_insert(0) += 1;
        self.requests.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn uptime_seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn per_route(&self) -> BTreeMap<String, u64> {
        self.per_route.lock().unwrap().clone()
    }

    pub fn add_note(&self, text: String) -> Note {
        let mut notes = self.notes.lock().unwrap();
        let note = Note { id: notes.len() as u64 + 1, text };
        notes.push(note.clone());
        note
    }

    pub fn notes(&self) -> Vec<Note> {
        self.notes.lock().unwrap().clone()
    }
}
