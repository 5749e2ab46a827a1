//! Spike detection on per-interval series (request rate, error ratio, p95 latency): an
//! exponentially weighted mean and variance, and an alert when a value sits more than
//! `threshold` standard deviations above the mean after a warm-up.

use serde::Serialize;

#[derive(Clone, Debug)]
pub struct Ewma {
    alpha: f64,
    mean: f64,
    variance: f64,
    samples: u64,
}

impl Ewma {
    pub fn new(alpha: f64) -> Self {
        Ewma { alpha: alpha.clamp(0.001, 1.0), mean: 0.0, variance: 0.0, samples: 0 }
    }

    /// Adds a sample; returns its z-score against the state before it.
    pub fn update(&mut self, value: f64) -> f64 {
        let z = self.z_score(value);
        if self.samples == 0 {
            self.mean = value;
        } else {
            let delta = value - self.mean;
            self.mean += self.alpha * delta;
            self.variance = (1.0 - self.alpha) * (self.variance + self.alpha * delta * delta);
        }
        self.samples += 1;
        z
    }

    pub fn z_score(&self, value: f64) -> f64 {
        let deviation = self.variance.sqrt();
        if self.samples < 2 || deviation < 1e-9 {
            return 0.0;
        }
        (value - self.mean) / deviation
    }

    pub fn mean(&self) -> f64 {
        self.mean
    }

    pub fn samples(&self) -> u64 {
        self.samples
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Alert {
    pub series: String,
    pub value: f64,
    pub expected: f64,
    pub z_score: f64,
    pub interval: u64,
}

impl Alert {
    pub fn describe(&self) -> String {
        format!("{} spiked to {:.2} (expected ~{:.2}, z={:.1})", self.series, self.value, self.expected, self.z_score)
    }
}

/// Several named series, one detector each.
#[derive(Clone, Debug)]
pub struct Detector {
    series: Vec<(String, Ewma)>,
    threshold: f64,
    warmup: u64,
    interval: u64,
    alpha: f64,
}

impl Detector {
    pub fn new(threshold: f64, warmup: u64, alpha: f64) -> Self {
        Detector { series: Vec::new(), threshold, warmup, interval: 0, alpha }
    }

    /// Feeds one interval's values; the alerts they raise.
    pub fn observe(&mut self, values: &[(&str, f64)]) -> Vec<Alert> {
        self.interval += 1;
        let mut alerts = Vec::new();
        for (name, value) in values {
            let position = match self.series.iter().position(|(n, _)| n == name) {
                Some(position) => position,
                None => {
                    self.series.push((name.to_string(), Ewma::new(self.alpha)));
                    self.series.len() - 1
                }
            };
            let ewma = &mut self.series[position].1;
            let expected = ewma.mean();
            let warmed = ewma.samples() >= self.warmup;
            let z = ewma.update(*value);
            if warmed && z > self.threshold {
                alerts.push(Alert { series: name.to_string(), value: *value, expected, z_score: z, interval: self.interval });
            }
        }
        alerts
    }
}

impl Default for Detector {
    fn default() -> Self {
        Detector::new(3.0, 10, 0.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_a_spike_after_warmup() {
        let mut detector = Detector::new(3.0, 5, 0.2);
        for i in 0..30 {
            let noise = if i % 2 == 0 { 1.0 } else { -1.0 };
            assert!(detector.observe(&[("rate", 100.0 + noise)]).is_empty());
        }
        let alerts = detector.observe(&[("rate", 180.0)]);
        assert_eq!(alerts.len(), 1);
        assert!(alerts[0].describe().contains("rate spiked"));
    }
}
