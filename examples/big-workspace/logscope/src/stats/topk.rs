//! Space-saving top-k (Metwally et al.): the k most frequent keys of a stream in O(k) memory,
//! each with an overestimate bound.

use std::collections::HashMap;

use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Entry {
    pub key: String,
    pub count: u64,
    /// How much of `count` may belong to keys evicted before this one arrived.
    pub error: u64,
}

#[derive(Clone, Debug)]
pub struct TopK {
    capacity: usize,
    entries: HashMap<String, (u64, u64)>,
    seen: u64,
}

impl TopK {
    pub fn new(capacity: usize) -> Self {
        TopK { capacity: capacity.max(1), entries: HashMap::new(), seen: 0 }
    }

    pub fn add(&mut self, key: &str) {
        self.add_weighted(key, 1);
    }

    pub fn add_weighted(&mut self, key: &str, weight: u64) {
        self.seen += weight;
        if let Some(entry) = self.entries.get_mut(key) {
            entry.0 += weight;
            return;
        }
        if self.entries.len() < self.capacity {
            self.entries.insert(key.to_string(), (weight, 0));
            return;
        }
        // Replace the smallest: the newcomer inherits its count as possible error.
        let smallest = self
            .entries
            .iter()
            .min_by(|a, b| a.1 .0.cmp(&b.1 .0).then_with(|| b.0.cmp(a.0)))
            .map(|(key, (count, _))| (key.clone(), *count));
        if let Some((victim, count)) = smallest {
            self.entries.remove(&victim);
            self.entries.insert(key.to_string(), (count + weight, count));
        }
    }

    /// The `n` heaviest keys, heaviest first (ties by key).
    pub fn top(&self, n: usize) -> Vec<Entry> {
        let mut entries: Vec<Entry> =
            self.entries.iter().map(|(key, (count, error))| Entry { key: key.clone(), count: *count, error: *error }).collect();
        entries.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        entries.truncate(n);
        entries
    }

    pub fn seen(&self) -> u64 {
        self.seen
    }

    pub fn merge(&mut self, other: &TopK) {
        for (key, (count, _)) in &other.entries {
            self.add_weighted(key, *count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_heavy_hitters() {
        let mut top = TopK::new(3);
        for i in 0..1000 {
            top.add(if i % 2 == 0 { "/a" } else if i % 3 == 0 { "/b" } else { &"/noise"[..(2 + i % 5).min(6)] });
        }
        assert_eq!(top.top(1)[0].key, "/a");
    }
}
