//! Rates over sliding time windows: events per second over the last N seconds, in buckets.

use std::collections::VecDeque;

use serde::Serialize;

#[derive(Clone, Debug)]
pub struct RateWindow {
    /// (bucket start in seconds, events, problems) for each bucket in the window.
    buckets: VecDeque<(i64, u64, u64)>,
    bucket_seconds: i64,
    span_buckets: usize,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Rates {
    pub per_second: f64,
    pub problems_per_second: f64,
    pub problem_ratio: f64,
    pub covered_seconds: i64,
}

impl RateWindow {
    pub fn new(bucket_seconds: i64, span_buckets: usize) -> Self {
        RateWindow { buckets: VecDeque::new(), bucket_seconds: bucket_seconds.max(1), span_buckets: span_buckets.max(1) }
    }

    pub fn add(&mut self, at_seconds: i64, problem: bool) {
        let start = at_seconds.div_euclid(self.bucket_seconds) * self.bucket_seconds;
        match self.buckets.iter_mut().rev().find(|b| b.0 == start) {
            Some(bucket) => {
                bucket.1 += 1;
                bucket.2 += problem as u64;
            }
            None => {
                // Out-of-order lines older than the window are dropped; newer ones open a bucket.
                if self.buckets.back().map_or(true, |b| start > b.0) {
                    self.buckets.push_back((start, 1, problem as u64));
                } else if self.buckets.front().map_or(false, |b| start > b.0) {
                    let position = self.buckets.iter().position(|b| b.0 > start).unwrap_or(self.buckets.len());
                    self.buckets.insert(position, (start, 1, problem as u64));
                }
            }
        }
        self.expire();
    }

    fn expire(&mut self) {
        if let Some(&(newest, _, _)) = self.buckets.back() {
            let oldest_kept = newest - self.bucket_seconds * (self.span_buckets as i64 - 1);
            while self.buckets.front().map_or(false, |b| b.0 < oldest_kept) {
                self.buckets.pop_front();
            }
        }
    }

    pub fn rates(&self) -> Rates {
        let events: u64 = self.buckets.iter().map(|b| b.1).sum();
        let problems: u64 = self.buckets.iter().map(|b| b.2).sum();
        let covered = (self.buckets.len() as i64 * self.bucket_seconds).max(1);
        Rates {
            per_second: events as f64 / covered as f64,
            problems_per_second: problems as f64 / covered as f64,
            problem_ratio: if events == 0 { 0.0 } else { problems as f64 / events as f64 },
            covered_seconds: covered,
        }
    }

    /// Events per bucket, oldest first (for sparklines).
    pub fn series(&self) -> Vec<u64> {
        self.buckets.iter().map(|b| b.1).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_window() {
        let mut window = RateWindow::new(1, 10);
        for second in 0..100 {
            window.add(second, second % 10 == 0);
        }
        let rates = window.rates();
        assert_eq!(rates.covered_seconds, 10);
        assert!((rates.per_second - 1.0).abs() < 1e-9);
        assert!((rates.problem_ratio - 0.1).abs() < 1e-9);
    }
}
