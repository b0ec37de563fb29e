//! The seam for a second tier behind the in-memory store: what a remote store (Redis) must do
//! for a cache, typed by the cache's key and value, every method bounded in time.
//!
//! The remote tier is consulted only where a caller would otherwise run the body: a hit in
//! the store (or in a thread's copy) never sees it. The caller that runs a key's flight asks
//! the remote store first ([`Remote::fetch`]); on a remote hit the body does not run, the
//! flight's waiters get the value and the store keeps it only as a near copy (a store of
//! capacity 0 keeps none). On a remote miss the body runs and the value goes to the remote
//! store ([`Remote::fill`]) before the flight ends; a fill that an invalidation overtook
//! stores nothing anywhere. Invalidations reach the remote store before the local one, so
//! that a flight started between the two cannot read the old value back.
//!
//! Failures are the remote tier's own to count and log: every method here answers (a miss,
//! `false`) within its deadline, and the cached function then runs its body.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A future of the remote tier, boxed so that the trait stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The right to fill a key in the remote store, taken by [`Remote::fetch`] on a miss: a fill
/// with it stores only if no invalidation (nor another writer) came in between.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease(
    /// The owner's token, random.
    pub [u8; 16],
);

/// What the remote store holds for a key.
#[derive(Debug)]
pub enum Fetched<V> {
    /// A value, which may live at most `lives` more in a near copy (its remaining time to
    /// live in the remote store).
    Hit {
        /// The value.
        value: V,
        /// How long it may still live in a near copy.
        lives: Option<Duration>,
    },
    /// A value past its `ttl`, in its `stale` window. With a lease, this caller refreshes it
    /// (the body runs and its value is filled under the lease); without one, another process
    /// does, and this caller is served the stale value (kept nowhere).
    Stale {
        /// The stale value.
        value: V,
        /// The right to refresh it, if this caller got it.
        lease: Option<Lease>,
    },
    /// Nothing usable: the body runs. With a lease, its value is filled in under it; without
    /// one (the remote store is down, or another process holds the key's lease), nothing is
    /// stored remotely.
    Miss {
        /// The right to fill the key, if this caller got it.
        lease: Option<Lease>,
    },
}

/// What a remote tier may do to the local store in front of it, when another process changes
/// the remote store (the near copies' coherence): implemented by the cache, handed to
/// [`Remote::attach`] once the cache lives for the rest of the process.
pub trait Local<K>: Send + Sync {
    /// Drops `key`'s local entry (and detaches its run in progress, which then stores nothing).
    fn drop_key(&self, key: &K);
    /// Drops every local entry.
    fn drop_all(&self);
    /// Drops the local entries labelled `tag`.
    fn drop_tag(&self, tag: &str);
}

/// What became of a fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filled {
    /// The value is in the remote store.
    Stored,
    /// An invalidation (or a newer run) overtook the run: nothing was stored, and the callers
    /// that joined the run get nothing from it (they look again).
    Overtaken,
    /// The remote store could not be reached: nothing was stored there, and the callers that
    /// joined the run get its value (it is right; only the store failed).
    Failed,
}

/// A cache's remote tier (see the module's doc). Generated code never names it; a backend
/// marker ([`crate::backend::Backend`]) makes one for its cache.
pub trait Remote<K, V>: Send + Sync + 'static {
    /// On a miss, before the body runs: what the remote store holds for `key`. `tags`: the
    /// labels the entry will carry.
    fn fetch(&self, key: &K, tags: &[String]) -> Fetched<V>;
    /// The `async` form of [`Remote::fetch`].
    fn fetch_async<'a>(&'a self, key: &'a K, tags: &'a [String]) -> BoxFuture<'a, Fetched<V>>;
    /// After the body ran: stores `value` under `lease`. What became of it: see [`Filled`].
    fn fill(&self, key: &K, value: &V, tags: &[String], lease: Lease) -> Filled;
    /// The `async` form of [`Remote::fill`].
    fn fill_async<'a>(
        &'a self,
        key: &'a K,
        value: &'a V,
        tags: &'a [String],
        lease: Lease,
    ) -> BoxFuture<'a, Filled>;
    /// Before a `refresh_*` runs the body: takes `key`'s lease whatever is there (a value, or
    /// another run's lease, whose fill then stores nothing). `None` when the remote store
    /// could not be reached.
    fn take(&self, key: &K, tags: &[String]) -> Option<Lease>;
    /// The `async` form of [`Remote::take`].
    fn take_async<'a>(&'a self, key: &'a K, tags: &'a [String]) -> BoxFuture<'a, Option<Lease>>;
    /// Gives a lease back: the run stores nothing (an `Err`, a panic, a cancelled future).
    /// Never blocks.
    fn release(&self, key: &K, lease: Lease);
    /// Removes `key`'s entry; whether there was one.
    fn invalidate(&self, key: &K) -> bool;
    /// The `async` form of [`Remote::invalidate`].
    fn invalidate_async<'a>(&'a self, key: &'a K) -> BoxFuture<'a, bool>;
    /// Removes every entry of the cache.
    fn clear(&self);
    /// The `async` form of [`Remote::clear`].
    fn clear_async(&self) -> BoxFuture<'_, ()>;
    /// How many operations failed (counted in the cache's `stats().errors`).
    fn errors(&self) -> u64;
    /// Called once, when the cache is made: the local store the tier keeps coherent.
    fn attach(&'static self, _local: &'static dyn Local<K>) {}
    /// Whether the local store may keep a copy of what the remote tier answered or stored
    /// now (for a near cache: only while this process hears the other processes'
    /// invalidations).
    fn keeps_local(&self) -> bool {
        true
    }
}
