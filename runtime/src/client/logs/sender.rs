//! The sender thread: takes batches of lines from the [`LogQueue`] and POSTs them to the device's
//! `/api/devices/{id}/logs`. A batch the server does not take is dropped and counted (reported as
//! `dropped` with the next batch that gets through): while the server is away, lines are lost,
//! never the app's time. It logs nothing itself — its own lines would be forwarded too.

use super::lines::{LogLine, LogQueue};
use crate::client::backoff::Backoff;
use crate::client::session::percent_encode;
use crate::http::{self, Body, Credential, Request, Url};
use crate::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a batch gathers after its first line: a burst goes out in one request, and a line
/// still reaches the server well inside 100 ms.
const GATHER: Duration = Duration::from_millis(10);
/// At most this many lines (the server's limit is 1000) and bytes of text per request.
const BATCH_LINES: usize = 500;
const BATCH_BYTES: usize = 256 * 1024;
const TIMEOUT: Duration = Duration::from_secs(5);

/// Where lines go: the server and device of the session that registered last.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) base: Url,
    pub(crate) token: Option<String>,
    pub(crate) device: String,
}

/// The request body: `{"lines":[{"stream","time","text"}…],"dropped":N}` (`time` in Unix-epoch ms).
pub(crate) fn batch_json(lines: &[LogLine], dropped: u64) -> String {
    let mut body = String::from("{\"lines\":[");
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body += &format!(
            "{{\"stream\":\"{}\",\"time\":{:.3},\"text\":{}}}",
            line.stream.name(),
            line.time_ms,
            json::quote(&line.text)
        );
    }
    body += &format!("],\"dropped\":{dropped}}}");
    body
}

pub(crate) fn run(queue: Arc<LogQueue>, target: Arc<Mutex<Option<Target>>>) {
    let mut backoff = Backoff::new();
    loop {
        if !queue.wait(Duration::from_secs(60)) {
            continue;
        }
        let current = target.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        let current = match current {
            Some(current) => current,
            // Not registered yet: lines wait in the queue (bounded) for the device id.
            None => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        std::thread::sleep(GATHER);
        let (lines, dropped) = queue.take_batch(BATCH_LINES, BATCH_BYTES);
        let lost = dropped + lines.len() as u64;
        match post(&current, &batch_json(&lines, dropped)) {
            Ok(status) if (200..300).contains(&status) => backoff.reset(),
            Ok(404) => {
                // The server forgot this device; the session registers again and says so.
                queue.add_dropped(lost);
                let mut slot = target.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if slot.as_ref().map(|t| t.device == current.device) == Some(true) {
                    *slot = None;
                }
            }
            // 400, 413: the server will not take this batch; later ones are fine.
            Ok(status) if (400..500).contains(&status) => queue.add_dropped(lost),
            _ => {
                queue.add_dropped(lost);
                std::thread::sleep(backoff.next_delay());
            }
        }
    }
}

fn post(target: &Target, body: &str) -> Result<u16, crate::error::Error> {
    let url = target.base.join(&format!("/api/devices/{}/logs", percent_encode(&target.device)));
    let response = http::send(&Request {
        method: "POST",
        url: &url,
        credential: Credential::for_server(target.token.as_deref(), &target.base),
        body: Some(Body::json(body)),
        timeout: TIMEOUT,
        max_body: 64 * 1024,
    })?;
    Ok(response.status)
}
