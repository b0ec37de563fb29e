//! When an entry stops being fresh: the expiry settings of a store, in clock nanoseconds, and
//! what an entry's deadlines make it at a given time.

use crate::clock;
use crate::config::Config;

/// A store's `ttl`, `tti` and `stale`, in clock nanoseconds (`u64::MAX`: none).
pub(super) struct Expiry {
    pub(super) ttl: u64,
    pub(super) tti: u64,
    /// How long past `hard` a value may still be served while it is refreshed (0: never).
    pub(super) stale: u64,
    /// Whether entries expire at all: `ttl` or `tti` set (one test on the hit path).
    expires: bool,
}

/// What an entry's age makes it.
pub(super) enum Age {
    Fresh,
    /// Past its ttl, inside the stale window: served while one refresh runs.
    Stale,
    Expired,
}

impl Expiry {
    pub(super) fn new(config: &Config) -> Self {
        let opt = |d: Option<std::time::Duration>| d.map_or(u64::MAX, clock::nanos);
        let (ttl, tti) = (opt(config.ttl), opt(config.tti));
        Expiry {
            ttl,
            tti,
            stale: config.ttl.and(config.stale).map_or(0, clock::nanos),
            expires: ttl != u64::MAX || tti != u64::MAX,
        }
    }

    /// Whether entries expire at all (else the store never reads the clock).
    #[inline]
    pub(super) fn any(&self) -> bool {
        self.expires
    }

    /// Whether entries need their `ttl` deadline kept apart from `deadline`: only when a
    /// `tti` moves `deadline` and a `ttl` bounds it.
    #[inline]
    pub(super) fn keeps_hard(&self) -> bool {
        self.ttl != u64::MAX && self.tti != u64::MAX
    }

    /// The `ttl` deadline (`hard`) and the first deadline of an entry stored at `now` that
    /// may live no longer than `cap` (`u64::MAX`: no cap).
    #[inline]
    pub(super) fn deadlines(&self, now: u64, cap: u64) -> (u64, u64) {
        let hard = now.saturating_add(self.ttl).min(cap);
        (hard, hard.min(now.saturating_add(self.tti)))
    }

    /// An entry's idle deadline after a hit at `now`, bounded by its `ttl` deadline.
    #[inline]
    pub(super) fn touched(&self, now: u64, hard: u64) -> u64 {
        hard.min(now.saturating_add(self.tti))
    }

    /// What an entry whose deadline is `deadline` and whose `ttl` runs out at `hard` is at
    /// `now`.
    #[inline]
    pub(super) fn age(&self, deadline: u64, hard: impl FnOnce() -> u64, now: u64) -> Age {
        if now < deadline {
            return Age::Fresh;
        }
        let hard = hard();
        if self.stale != 0 && deadline == hard && now < hard.saturating_add(self.stale) {
            Age::Stale
        } else {
            Age::Expired
        }
    }
}
