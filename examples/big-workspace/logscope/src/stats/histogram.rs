//! A log-linear histogram (HdrHistogram-style buckets): constant relative error, fixed memory,
//! mergeable, with percentiles.

use serde::{Deserialize, Serialize};

/// Sub-buckets per power of two: 32 gives ≤ ~3% relative error.
const SUB_BUCKETS: u32 = 32;
const MAGNITUDES: u32 = 40;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    sum: f64,
    min: f64,
    max: f64,
    /// Values are recorded in units of `resolution` (e.g. 0.01 ms).
    resolution: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new(0.01)
    }
}

impl Histogram {
    pub fn new(resolution: f64) -> Self {
        Histogram {
            counts: vec![0; (SUB_BUCKETS * MAGNITUDES) as usize],
            total: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            resolution,
        }
    }

    fn index_of(&self, value: f64) -> usize {
        let units = (value / self.resolution).max(0.0) as u64;
        if units < SUB_BUCKETS as u64 {
            return units as usize;
        }
        let magnitude = 63 - units.leading_zeros() - SUB_BUCKETS.trailing_zeros();
        let sub = (units >> magnitude) as u32 - SUB_BUCKETS;
        let index = (magnitude + 1) * SUB_BUCKETS + sub.min(SUB_BUCKETS - 1);
        (index as usize).min(self.counts.len() - 1)
    }

    /// The smallest value that falls in bucket `index` (its representative).
    fn value_of(&self, index: usize) -> f64 {
        let index = index as u32;
        if index < SUB_BUCKETS {
            return index as f64 * self.resolution;
        }
        let magnitude = index / SUB_BUCKETS - 1;
        let sub = index % SUB_BUCKETS + SUB_BUCKETS;
        ((sub as u64) << magnitude) as f64 * self.resolution
    }

    pub fn record(&mut self, value: f64) {
        if !value.is_finite() || value < 0.0 {
            return;
        }
        let index = self.index_of(value);
        self.counts[index] += 1;
        self.total += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn mean(&self) -> Option<f64> {
        (self.total > 0).then(|| self.sum / self.total as f64)
    }

    pub fn min(&self) -> Option<f64> {
        (self.total > 0).then_some(self.min)
    }

    pub fn max(&self) -> Option<f64> {
        (self.total > 0).then_some(self.max)
    }

    /// The value at quantile `q` (0–1), within the bucket error; exact at the extremes.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let q = q.clamp(0.0, 1.0);
        if q == 0.0 {
            return Some(self.min);
        }
        if q == 1.0 {
            return Some(self.max);
        }
        let rank = (q * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(self.value_of(index).clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    pub fn p50(&self) -> Option<f64> {
        self.quantile(0.50)
    }

    pub fn p95(&self) -> Option<f64> {
        self.quantile(0.95)
    }

    pub fn p99(&self) -> Option<f64> {
        self.quantile(0.99)
    }

    /// Non-empty buckets as (lower bound, count), for drawing a distribution.
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        self.counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, c)| (self.value_of(i), *c)).collect()
    }

    pub fn clear(&mut self) {
        *self = Histogram::new(self.resolution);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_a_few_percent() {
        let mut histogram = Histogram::new(0.01);
        for value in 1..=10_000 {
            histogram.record(value as f64 / 10.0);
        }
        let p50 = histogram.p50().unwrap();
        let p99 = histogram.p99().unwrap();
        assert!((p50 - 500.0).abs() / 500.0 < 0.04, "p50 {p50}");
        assert!((p99 - 990.0).abs() / 990.0 < 0.04, "p99 {p99}");
        assert_eq!(histogram.max(), Some(1000.0));
    }

    #[test]
    fn merging_adds_counts() {
        let mut a = Histogram::default();
        let mut b = Histogram::default();
        a.record(1.0);
        b.record(100.0);
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.max(), Some(100.0));
    }
}
