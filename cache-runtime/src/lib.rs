//! The runtime of [memocache](https://docs.rs/memocache): what `#[cached]` functions call.
//!
//! Users depend on the `memocache` facade, which re-exports this crate's public items;
//! the code `#[cached]` generates calls this crate's hidden `__private` module through the
//! facade.
//!
//! - [`store`](self) (private): sharded stores, exact LRU per shard, TTL/TTI, amortised purge;
//! - `front` (private): each thread's copies of the entries it read lately, which answer
//!   repeated hits with no lock and no shared write;
//! - single-flight: one run of the body per missing key, sync and async;
//! - [`CacheHandle`], [`caches`], [`clear_all`], [`invalidate_tag`]: the registry and tags;
//! - [`CacheStats`]: counters kept inside each shard, under the lock a call holds anyway, and
//!   per thread for the hits a front answers;
//! - [`bypass`] and `MEMOCACHE_DISABLE`: run the bodies, store nothing;
//! - [`testing::advance_clock`]: move the cache clock, never sleep through a TTL in a test.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod bypass;
mod call;
mod clock;
mod config;
mod flight;
mod front;
mod handle;
mod invalidates;
mod key;
#[cfg(all(test, shuttle))]
mod model_tests;
mod ongoing;
mod per_self;
mod policy;
#[cfg(feature = "redis")]
pub mod redis;
mod stats;
mod store;
mod sync;
mod tags;

pub use bypass::{BypassGuard, bypass};
pub use config::DEFAULT_CAPACITY;
pub use handle::{CacheHandle, caches, clear_all, invalidate_tag};
pub use stats::CacheStats;

/// Helpers for tests of code that uses cached functions.
pub mod testing {
    use std::time::Duration;

    /// Moves the cache clock forward by `d` for the calling thread, so that a test checks
    /// expiry without sleeping through a TTL.
    ///
    /// ```
    /// use memocache::{cached, testing::advance_clock};
    /// use std::time::Duration;
    ///
    /// #[cached(ttl = "5m")]
    /// fn now_serving(desk: u32) -> u64 { u64::from(desk) * 100 }
    ///
    /// now_serving(1);
    /// advance_clock(Duration::from_secs(301));
    /// now_serving(1); // the entry expired: a miss
    /// assert_eq!(now_serving_cache().stats().misses, 2);
    /// ```
    pub fn advance_clock(d: Duration) {
        crate::clock::advance(d);
    }
}

/// What generated code calls. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::call::{
        Lookup, Mode, Tags, Ticket, invalidate, lookup, lookup_async, lookup_stale,
        lookup_stale_async, never, tag,
    };
    pub use crate::config::Config;
    pub use crate::handle::CacheHandle;
    pub use crate::invalidates::*;
    pub use crate::key::{KeyChoice, KeyPart, KeyRef, KeyType, NotAKey, Owned};
    pub use crate::per_self::SelfCaches;
    pub use crate::policy::{
        IsResult, OkOf, OkOnly, OkShared, Plain, Policy, Storable, Unstorable, ValueChoice, ValueOf,
    };

    /// A cache handle for a `static` (see [`CacheHandle`]).
    #[must_use]
    pub const fn new_handle(name: &'static str) -> CacheHandle {
        CacheHandle::new(name)
    }
}
