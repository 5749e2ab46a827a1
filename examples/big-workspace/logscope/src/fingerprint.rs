//! Stable fingerprints of records (for de-duplicating repeated lines across files and restarts)
//! and of templates (for linking a template to a ticket).

use sha2::{Digest, Sha256};

use crate::record::Record;

/// A short URL-safe id of the normalised content: timestamp, level, source and message.
pub fn record_fingerprint(record: &Record) -> String {
    let mut hasher = Sha256::new();
    if let Some(time) = record.timestamp {
        hasher.update(time.timestamp_millis().to_le_bytes());
    }
    hasher.update(record.level.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(record.source.as_deref().unwrap_or("").as_bytes());
    hasher.update([0]);
    hasher.update(record.message.as_bytes());
    for (key, value) in &record.fields {
        hasher.update(key.as_bytes());
        hasher.update([b'=']);
        hasher.update(value.to_string().as_bytes());
        hasher.update([0]);
    }
    encode(&hasher.finalize()[..12])
}

pub fn template_fingerprint(template: &str) -> String {
    encode(&Sha256::digest(template.as_bytes())[..9])
}

fn encode(bytes: &[u8]) -> String {
    base64::encode_config(bytes, base64::URL_SAFE_NO_PAD)
}

/// Remembers the last `capacity` fingerprints; `seen` says whether one repeated.
#[derive(Debug)]
pub struct Deduplicator {
    order: std::collections::VecDeque<String>,
    set: std::collections::HashSet<String>,
    capacity: usize,
    pub duplicates: u64,
}

impl Deduplicator {
    pub fn new(capacity: usize) -> Self {
        Deduplicator { order: Default::default(), set: Default::default(), capacity: capacity.max(1), duplicates: 0 }
    }

    pub fn seen(&mut self, record: &Record) -> bool {
        let fingerprint = record_fingerprint(record);
        if self.set.contains(&fingerprint) {
            self.duplicates += 1;
            return true;
        }
        if self.order.len() == self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.set.insert(fingerprint.clone());
        self.order.push_back(fingerprint);
        false
    }
}
