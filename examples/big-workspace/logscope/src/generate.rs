//! Synthetic traffic: realistic access-log, JSON and logfmt lines for demos, load tests and
//! `logscope watch --demo`. Deterministic for a seed.

use chrono::{DateTime, Duration, Utc};

use crate::parse::Format;
use crate::timefmt;

const PATHS: &[(&str, u32)] = &[
    ("/", 20),
    ("/api/users/{id}", 18),
    ("/api/orders/{id}", 12),
    ("/api/search", 10),
    ("/static/app.js", 9),
    ("/static/style.css", 8),
    ("/login", 6),
    ("/api/cart", 6),
    ("/health", 5),
    ("/api/reports/{id}/export", 2),
];
const METHODS: &[(&str, u32)] = &[("GET", 80), ("POST", 15), ("PUT", 3), ("DELETE", 2)];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
    "Mozilla/5.0 (Macintosh) Safari/605.1.15",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "kube-probe/1.29",
];
const MESSAGES: &[&str] = &[
    "request completed",
    "cache miss for key user:{id}",
    "slow query on orders took {ms}ms",
    "connection reset by peer {ip}",
    "retrying upstream call attempt {n}",
    "user {id} logged in from {ip}",
];

/// A small, fast PRNG (SplitMix64): deterministic streams without a dependency.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn weighted<'a>(&mut self, items: &'a [(&'a str, u32)]) -> &'a str {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut pick = self.below(total as u64) as u32;
        for (item, weight) in items {
            if pick < *weight {
                return item;
            }
            pick -= weight;
        }
        items[0].0
    }

    /// Log-normal-ish latency in ms: mostly tens of ms, a long tail.
    fn latency_ms(&mut self, slow: bool) -> f64 {
        let base = 8.0 + 40.0 * self.unit() * self.unit();
        let tail = if self.below(50) == 0 { 400.0 * self.unit() } else { 0.0 };
        (base + tail) * if slow { 6.0 } else { 1.0 }
    }
}

#[derive(Clone, Debug)]
pub struct Generator {
    rng: SplitMix,
    clock: DateTime<Utc>,
    format: Format,
    /// Share of requests that fail (5xx); raised temporarily by `incident`.
    pub error_rate: f64,
    incident_left: u32,
}

impl Generator {
    pub fn new(seed: u64, format: Format, start: DateTime<Utc>) -> Self {
        Generator { rng: SplitMix::new(seed), clock: start, format, error_rate: 0.02, incident_left: 0 }
    }

    /// The next `incident` batches fail and slow down a lot (for anomaly demos).
    pub fn incident(&mut self, batches: u32) {
        self.incident_left = batches;
    }

    fn client(&mut self) -> String {
        format!("10.{}.{}.{}", self.rng.below(4), self.rng.below(32), 1 + self.rng.below(250))
    }

    fn fill(&mut self, template: &str) -> String {
        let id = 1 + self.rng.below(5000);
        let ms = 50 + self.rng.below(2000);
        let n = 1 + self.rng.below(5);
        let ip = self.client();
        template
            .replace("{id}", &id.to_string())
            .replace("{ms}", &ms.to_string())
            .replace("{n}", &n.to_string())
            .replace("{ip}", &ip)
    }

    /// One batch of `count` lines, spread over `span` of simulated time.
    pub fn batch(&mut self, count: usize, span: Duration) -> Vec<String> {
        let incident = self.incident_left > 0;
        if incident {
            self.incident_left -= 1;
        }
        let step = span / count.max(1) as i32;
        (0..count)
            .map(|_| {
                self.clock = self.clock + step;
                self.line(incident)
            })
            .collect()
    }

    pub fn line(&mut self, incident: bool) -> String {
        let error_rate = if incident { 0.35 } else { self.error_rate };
        let failed = self.rng.unit() < error_rate;
        let method = self.rng.weighted(METHODS).to_string();
        let template = self.rng.weighted(PATHS);
        let path = self.fill(template);
        let pick = self.rng.below(MESSAGES.len() as u64) as usize;
        let message = self.fill(MESSAGES[pick]);
        let status = if failed {
            [500, 502, 503, 504][self.rng.below(4) as usize]
        } else if self.rng.below(20) == 0 {
            [301, 304, 400, 401, 404][self.rng.below(5) as usize]
        } else {
            if method == "POST" { 201 } else { 200 }
        };
        let ms = self.rng.latency_ms(incident);
        let bytes = if status == 304 { 0 } else { 200 + self.rng.below(48_000) };
        let client = self.client();
        match self.format {
            Format::JsonLines => serde_json::json!({
                "ts": self.clock.to_rfc3339(),
                "level": crate::record::Level::from_http_status(status).as_str(),
                "msg": message,
                "http": {"method": method, "path": path, "status": status},
                "duration_ms": (ms * 100.0).round() / 100.0,
                "client": client,
                "bytes": bytes,
            })
            .to_string(),
            Format::Logfmt => format!(
                "time={} level={} msg=\"{}\" method={} path={} status={} took={:.1}ms client={} bytes={}",
                self.clock.to_rfc3339(),
                crate::record::Level::from_http_status(status),
                message,
                method,
                path,
                status,
                ms,
                client,
                bytes
            ),
            _ => format!(
                "{} - - [{}] \"{} {} HTTP/1.1\" {} {} \"-\" \"{}\" {:.3}",
                client,
                timefmt::format_clf(self.clock),
                method,
                path,
                status,
                bytes,
                AGENTS[self.rng.below(AGENTS.len() as u64) as usize],
                ms / 1000.0
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_lines_parse_in_their_format() {
        for format in [Format::Combined, Format::JsonLines, Format::Logfmt] {
            let mut generator = Generator::new(7, format, Utc::now());
            for (i, line) in generator.batch(50, Duration::seconds(5)).iter().enumerate() {
                let record = format.parse(line, i + 1).unwrap_or_else(|e| panic!("{format}: {e}: {line}"));
                assert!(record.status().is_some(), "{format}: {line}");
                assert!(record.duration_ms().is_some(), "{format}: {line}");
            }
        }
    }
}
