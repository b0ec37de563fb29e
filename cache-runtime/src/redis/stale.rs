//! `stale` with Redis: an entry lives `ttl + stale` in Redis; once its `ttl` has run out, every
//! process is served the stale value while exactly one refreshes it. The right to refresh is a
//! key of its own (`<prefix>:#refresh:<entry key>`, `SET NX PX lease`), so the stale value
//! stays readable meanwhile; the refreshed value is stored only if the entry still holds the
//! bytes the refresh saw (an invalidation, or a newer value, overtakes it). This file: the
//! refreshes a process runs; the tier's side is in `remote.rs`.

use crate::remote::Lease;
use crate::sync::Mutex;
use std::collections::HashMap;

/// A refresh this process runs: its right's key, and the bytes it saw.
pub(super) struct Refresh {
    pub(super) refresh_key: Vec<u8>,
    pub(super) seen: Vec<u8>,
}

/// The refreshes of stale entries this process runs, by lease token.
#[derive(Default)]
pub(crate) struct Refreshing(Mutex<HashMap<[u8; 16], Refresh>>);

impl Refreshing {
    /// The refresh that `lease` is the right of, if it is one: forgotten.
    pub(super) fn take(&self, lease: &Lease) -> Option<Refresh> {
        self.0.lock().remove(&lease.0)
    }

    /// Notes a refresh this process runs under `lease`.
    pub(super) fn insert(&self, lease: &Lease, refresh: Refresh) {
        self.0.lock().insert(lease.0, refresh);
    }
}
