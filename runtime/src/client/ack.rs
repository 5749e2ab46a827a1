//! What the device reports back for each patch: applied or failed, with the timings it measured,
//! as the JSON body of `POST /api/devices/{id}/acks`.

use crate::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the device measured while delivering one patch; sent in its ack (see [`Ack::json`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Timings {
    /// Wall clock, milliseconds since the Unix epoch: the poll answer was read / the patch applied
    /// (or failed). The server places them on its own timeline.
    pub(crate) received_at_ms: f64,
    pub(crate) applied_at_ms: f64,
    pub(crate) parse: Duration,
    pub(crate) fetch: Duration,
    pub(crate) load: Duration,
    pub(crate) apply: Duration,
    pub(crate) total: Duration,
    /// `local` (the server's own file loaded in place) or `download`; `None` before a library was fetched.
    pub(crate) fetch_kind: Option<&'static str>,
}

pub(crate) struct Ack {
    pub(crate) patch: u64,
    pub(crate) error: Option<String>,
    pub(crate) timings: Option<Timings>,
}

pub(super) fn epoch_ms(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

impl Ack {
    /// `{"patch":N,"status":"applied"|"failed"[,"error"],"receivedAt","appliedAt","timings":{…}}`:
    /// the instants in Unix-epoch milliseconds, the durations in milliseconds (microsecond precision).
    pub(crate) fn json(&self) -> String {
        let mut body = match &self.error {
            None => format!("{{\"patch\":{},\"status\":\"applied\"", self.patch),
            Some(error) => format!("{{\"patch\":{},\"status\":\"failed\",\"error\":{}", self.patch, json::quote(error)),
        };
        if let Some(t) = &self.timings {
            body += &format!(
                ",\"receivedAt\":{:.3},\"appliedAt\":{:.3},\"timings\":{{\"parseMs\":{:.3},\"fetchMs\":{:.3},\"loadMs\":{:.3},\"applyMs\":{:.3},\"totalMs\":{:.3}",
                t.received_at_ms,
                t.applied_at_ms,
                ms(t.parse),
                ms(t.fetch),
                ms(t.load),
                ms(t.apply),
                ms(t.total)
            );
            if let Some(kind) = t.fetch_kind {
                body += &format!(",\"fetch\":{}", json::quote(kind));
            }
            body.push('}');
        }
        body.push('}');
        body
    }
}
