//! The runtime of [memocache](https://docs.rs/memocache): what `#[cached]` functions call.
//!
//! Users depend on the `memocache` facade, which re-exports this crate's public items;
//! the code `#[cached]` generates calls this crate's hidden `__private` module through the
//! facade.
//!
//! # Words
//!
//! Each of these means one thing, here and in every file of the runtime:
//!
//! - **entry**: a key and its value in a store's shard.
//! - **copy**: a thread's copy of an entry, which answers that thread's repeated hits with
//!   no lock and no shared write (`copies.rs`).
//! - **front**: the most recently used end of a shard's LRU list; the *front quarter* is
//!   the part of the list whose entries a hit does not move (`store/order.rs`).
//! - **flight**: one run of the body for one key, which the callers of that key join and
//!   wait for while it sits in its shard's table (`flight.rs`).
//! - **ticket**: the right and duty to run the body for one key, which a lookup hands to the
//!   caller that must run it (`call/ticket.rs`).
//! - **lead**: what the ticket's holder does to the flight: it runs the body for the
//!   callers that join it (it is the flight's *leader*; they are its *waiters*).
//!
//! # Layers
//!
//! Each layer uses only those below it; no two files use each other.
//!
//! | layer | files | what |
//! |---|---|---|
//! | calls | `call/` (`mod.rs` lookups, `site.rs`, `args.rs`, `ticket.rs`, `claim.rs`, `stale.rs`, `wait.rs`), `invalidates.rs`, `instances.rs` | what generated code calls: look up, run the body, invalidate |
//! | caches | `handle.rs`, `per_self.rs`, `ongoing.rs`, `cache.rs`, `backend.rs`, `remote.rs` | the registry, a handle per function (per `Self` type in an `impl`), a cache = the store + a remote tier, the backend seam; `redis/` (feature) |
//! | store | `store/` (`mod.rs`, `shard.rs`, `order.rs`, `expiry.rs`), `flight.rs`, `copies.rs`, `tags.rs` | in-memory entries, flights, per-thread copies, tag index; nothing of calls or remote tiers |
//! | leaves | `sync.rs`, `layout.rs`, `clock.rs`, `key.rs`, `rep.rs`, `policy.rs`, `config.rs`, `stats.rs`, `bypass.rs` | primitives, keys, what is stored, settings, counters |
//!
//! # Public items
//!
//! - [`CacheHandle`], [`caches`], [`clear_all`], [`invalidate_tag`]: the registry and tags;
//! - [`CacheStats`]: counters kept inside each shard, under the lock a call holds anyway,
//!   and per thread for the hits a copy answers; a miss counts where the body runs;
//! - [`bypass`] and `MEMOCACHE_DISABLE`: run the bodies, store nothing;
//! - [`testing::advance_clock`]: move the cache clock, never sleep through a TTL in a test.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod backend;
mod bypass;
mod cache;
mod call;
mod clock;
mod config;
mod copies;
mod flight;
mod handle;
#[cfg(all(debug_assertions, not(memocache_typed)))]
mod instances;
mod invalidates;
mod key;
mod layout;
#[cfg(all(test, shuttle))]
mod model_tests;
mod ongoing;
mod per_self;
mod policy;
#[cfg(feature = "redis")]
pub mod redis;
mod remote;
mod rep;
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
    pub use crate::backend::{Backend, Memory, Tiers, Wipe};
    pub use crate::call::{
        Args, Call, Lookup, Mode, NotResult, OkOf, OkOnlyOf, OkRefused, Sel, Tags, Ticket, ValueOf,
        ValueRefused, invalidate, invalidate_all, invalidate_all_async, invalidate_async, never,
        of, ok, tag,
    };
    pub use crate::config::{Config, Settings};
    pub use crate::handle::CacheHandle;
    #[cfg(all(debug_assertions, not(memocache_typed)))]
    pub use crate::instances::instances;
    pub use crate::invalidates::*;
    pub use crate::key::{
        AnyPart, KeyPart, KeyRef, KeyType, NotAKey, Owned, OwnedPart, RefPart, key,
    };
    pub use crate::per_self::SelfCaches;
    pub use crate::policy::{IsResult, OkOnly, OkShared, Plain, Policy, Storable, Unstorable};
    #[cfg(feature = "redis")]
    pub use crate::redis::{Redis, RedisKey, RedisValue};
    pub use crate::remote::{BoxFuture, Fetched, Filled, Lease, Remote};
    pub use crate::rep::{Erased, ErasedKey, ErasedRef, ErasedValue, Rep, Typed};
}
