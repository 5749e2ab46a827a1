//! The retry policy: how long the session waits after a failed step before trying again.

use std::time::Duration;

/// Delay before the next attempt: 250 ms, doubled per consecutive failure, at most 5 s.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(250);
    const CAP: Duration = Duration::from_secs(5);

    pub(crate) fn new() -> Backoff {
        Backoff { next: Backoff::FIRST }
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(Backoff::CAP);
        delay
    }

    pub(crate) fn reset(&mut self) {
        self.next = Backoff::FIRST;
    }
}
