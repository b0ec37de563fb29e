//! The circuit breaker of a client: after a few consecutive failures that say Redis is
//! unreachable, every call skips Redis at once (fail-open) until a background `PING` answers.
//!
//! Logging, through `tracing` under the target `memocache::redis`, once per incident: a
//! warning when the breaker opens, with the error; an info line with counts when it closes.
//! Never one line per call.

use super::{Error, ErrorKind};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Consecutive outage failures that open the breaker.
pub(super) const THRESHOLD: u32 = 3;
/// The first wait between two probes while open, doubled up to [`PROBE_MAX`].
pub(super) const PROBE_FIRST: Duration = Duration::from_millis(50);
pub(super) const PROBE_MAX: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(super) struct Breaker {
    open: AtomicBool,
    consecutive: AtomicU32,
    /// Calls that failed, and calls skipped, during the current incident.
    failed: AtomicU64,
    skipped: AtomicU64,
    since: Mutex<Option<Instant>>,
}

impl Breaker {
    /// Whether a call may use Redis; counts it as skipped if not.
    pub(super) fn admit(&self) -> Result<(), Error> {
        if self.open.load(Ordering::Acquire) {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return Err(Error::new(
                ErrorKind::Unavailable,
                "Redis is skipped after consecutive failures, until it answers a PING",
            ));
        }
        Ok(())
    }

    pub(super) fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    pub(super) fn success(&self) {
        if self.consecutive.load(Ordering::Relaxed) != 0 {
            self.consecutive.store(0, Ordering::Relaxed);
        }
    }

    /// Records a failure; true if it opened the breaker (the caller then starts the probe).
    pub(super) fn failure(&self, e: &Error, server: &str) -> bool {
        if !e.is_outage() || e.kind() == ErrorKind::Unavailable {
            // Redis answered (with an error): it is reachable.
            self.success();
            return false;
        }
        self.failed.fetch_add(1, Ordering::Relaxed);
        let n = self.consecutive.fetch_add(1, Ordering::Relaxed) + 1;
        if n < THRESHOLD || self.open.swap(true, Ordering::AcqRel) {
            return false;
        }
        *self.since.lock() = Some(Instant::now());
        tracing::warn!(
            target: "memocache::redis",
            server,
            error = %e,
            consecutive_failures = n,
            "Redis is unreachable: cached functions run their bodies without it until it answers again"
        );
        true
    }

    /// Closes the breaker after a successful probe.
    pub(super) fn close(&self, server: &str) {
        let since = self.since.lock().take();
        self.consecutive.store(0, Ordering::Relaxed);
        if !self.open.swap(false, Ordering::AcqRel) {
            return;
        }
        let failed = self.failed.swap(0, Ordering::Relaxed);
        let skipped = self.skipped.swap(0, Ordering::Relaxed);
        let down_ms = since.map_or(0, |s| s.elapsed().as_millis());
        tracing::info!(
            target: "memocache::redis",
            server,
            down_ms,
            failed_calls = failed,
            skipped_calls = skipped,
            "Redis answers again"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outage() -> Error {
        Error::timeout()
    }

    #[test]
    fn opens_after_consecutive_outages_only() {
        let b = Breaker::default();
        assert!(!b.failure(&outage(), "s"));
        assert!(!b.failure(&outage(), "s"));
        b.success();
        assert!(!b.failure(&outage(), "s"));
        assert!(!b.failure(&outage(), "s"));
        assert!(b.admit().is_ok());
        assert!(
            b.failure(&outage(), "s"),
            "the third consecutive outage opens it"
        );
        assert!(!b.failure(&outage(), "s"), "opened once per incident");
        assert_eq!(b.admit().unwrap_err().kind(), ErrorKind::Unavailable);
        b.close("s");
        assert!(b.admit().is_ok());
        assert_eq!(
            b.skipped.load(Ordering::Relaxed),
            0,
            "counts restart per incident"
        );
    }

    #[test]
    fn server_errors_do_not_count() {
        let b = Breaker::default();
        for _ in 0..10 {
            assert!(!b.failure(&Error::server("WRONGTYPE"), "s"));
        }
        assert!(b.admit().is_ok());
        assert!(!b.failure(&outage(), "s"));
        assert!(!b.failure(&outage(), "s"));
        assert!(
            !b.failure(&Error::server("ERR"), "s"),
            "an answer resets the count"
        );
        assert!(!b.failure(&outage(), "s"));
        assert!(b.admit().is_ok());
    }
}
