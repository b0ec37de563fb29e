//! The in-memory store: 2^k shards behind a lock each, holding entries, their eviction order
//! and the flights of the runs in progress.
//!
//! A lookup hashes the borrowed key once (outside any lock), picks a shard from the high
//! bits (see [`crate::layout`]) and probes that shard's table, comparing against the owned
//! keys; a hit clones the value, counts the access and may move the entry in the shard's
//! eviction order.
//! A miss registers the caller's run as the key's flight, which the store hands back with the
//! result, and which invalidations detach. The store knows nothing of calls, tickets or
//! remote stores: [`crate::call`] drives it, [`crate::cache`] puts a remote tier behind it.
//!
//! Files: [`shard`] (one shard's entries and counters, typed), [`slots`] (the rest of what
//! it keeps of them: index, deadlines, order, tags, not generic), [`flights`] (its runs in
//! progress), [`order`] (the
//! eviction policies' lists and their front quarter), [`sketch`] (the frequencies the default
//! policy admits by), [`expiry`] (deadlines and ages), [`shards`] (how many shards, their
//! shares, the capacity they share, the copies).

mod entry;
#[cfg(test)]
mod eviction_tests;
mod expiry;
mod flights;
mod order;
mod shard;
mod shards;
mod sketch;
mod slots;
#[cfg(test)]
mod tests;

use crate::clock;
use crate::config::Config;
use crate::copies::Copies;
use crate::flight::{Flight, Outcome};
use crate::key::KeyRef;
use crate::key::StoredKey;
use crate::layout::{Padded, shard_index};
use crate::policy::StoredValue;
use crate::stats::CacheStats;
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::sync::{Mutex, MutexGuard};
use entry::{Graveyard, NewEntry};
use expiry::Age;
pub(crate) use flights::Run;
use shard::{Settings, Shard};
pub(crate) use shards::copies_possible;
use shards::{Parts, copy_to_thread, parts};
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// Hands each store its [`Store::id`].
static NEXT_STORE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// What the hit path found: a fresh value, or the shard, still locked, for [`Store::begin`].
pub(crate) enum Fresh<'a, K, V> {
    Hit(V),
    Locked(Held<'a, K, V>),
}

/// A shard [`Store::fresh`] found no fresh entry in, still locked, the time it read, and the
/// key's entry it found (stale or expired), if any: [`Store::begin`] does not probe again.
pub(crate) struct Held<'a, K, V> {
    shard: MutexGuard<'a, Shard<K, V>>,
    now: u64,
    at: Option<u32>,
}

/// What a look at the store found, under the shard's lock.
pub(crate) enum Found<K, V> {
    /// A fresh value.
    Hit(V),
    /// A stale value; `Some` when this caller is to refresh it (it leads the refresh's
    /// flight).
    Stale(V, Option<Run<K, V>>),
    /// Another caller runs the body for this key: the caller joins its flight.
    Join(Arc<Flight<K, V>>),
    /// This caller runs the body.
    Run(Run<K, V>),
}

/// A finished run, as the caller that ran it hands it back to [`Store::complete`].
pub(crate) struct Done<V> {
    /// What to store, if anything.
    pub(crate) value: Option<V>,
    /// What the callers that waited for the run get when nothing is stored.
    pub(crate) unstored: Outcome<V>,
    pub(crate) tags: Option<Vec<String>>,
    /// Whether the body ran (a miss); else a remote store answered (a hit).
    pub(crate) ran_body: bool,
    /// The entry lives no longer than this many clock nanoseconds (the remote entry's
    /// remaining time to live), if set.
    pub(crate) lives: Option<u64>,
}

/// A shard behind its lock, on its own cache lines, so that threads on neighbouring shards
/// do not contend.
type LockedShard<K, V> = Padded<Mutex<Shard<K, V>>>;

/// A whole cache's entries: the shards and the settings they share.
pub(crate) struct Store<K, V> {
    /// Tells this store from the others, for the invalidations in progress (see
    /// [`crate::ongoing`]).
    id: usize,
    shards: Vec<LockedShard<K, V>>,
    mask: usize,
    settings: Settings,
    single_flight: bool,
    /// Whether entries carry tags (the function has a `tags` option): a tag invalidation
    /// passes over the other stores.
    tagged: bool,
    /// Hits decided outside the shards: answered by another caller's run, or by a stale
    /// value whose refresh runs elsewhere.
    extra_hits: AtomicU64,
    /// The threads' copies (see [`crate::copies`]), where they can serve hits.
    copies: Option<&'static Copies>,
}

/// A shard's lock. A panic under it can only come from a user's `Eq`, `Hash` or `Clone`,
/// before the shard is changed: the lock is released and the data stays consistent
/// (`parking_lot` has no poisoning to check on every lock and unlock).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock()
}

impl<K: StoredKey, V: StoredValue> Store<K, V> {
    /// A store; `copies`: whether threads may keep copies of it (see [`crate::copies`]).
    pub(crate) fn new(config: &Config, copies: bool) -> Self {
        let Parts {
            settings,
            slots,
            copies,
        } = parts(config, copies && const { copies_possible::<K, V>() });
        let mask = slots.len() - 1;
        let mut shards = Vec::with_capacity(slots.len());
        for slots in slots {
            shards.push(Padded(Mutex::new(Shard::new(slots))));
        }
        Store {
            id: NEXT_STORE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            shards,
            mask,
            settings,
            single_flight: config.single_flight,
            tagged: config.tagged,
            extra_hits: AtomicU64::new(0),
            copies,
        }
    }

    #[inline]
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.settings.hasher.hash_one(key)
    }

    fn now(&self) -> u64 {
        if self.settings.expiry.any() {
            clock::now()
        } else {
            0
        }
    }

    /// The hit path: a fresh value for `key`, if there is one. Anything else (a miss, a
    /// stale or expired entry) is left to [`Store::begin`], with the shard still locked.
    #[inline]
    pub(crate) fn fresh<L: KeyRef<Owned = K>>(&self, hash: u64, key: &L) -> Fresh<'_, K, V> {
        let now = self.now();
        let mut shard = self.shard(hash);
        let Some(i) = shard.find(hash, key) else {
            return Fresh::Locked(Held {
                shard,
                now,
                at: None,
            });
        };
        if !matches!(shard.age(i, now, &self.settings.expiry), Age::Fresh) {
            return Fresh::Locked(Held {
                shard,
                now,
                at: Some(i),
            });
        }
        let held = &mut *shard;
        held.stats.hits += 1;
        // A constant condition: stores of types that cannot have copies carry none of this
        // code, not even in a debug build.
        if const { copies_possible::<K, V>() }
            && let Some(copies) = self.copies
        {
            // Only an entry read lately, in the front quarter of its shard's order after this
            // hit, is copied: a cold entry's copy would only push a hot one out of the table.
            let (value, hot) = held.hit_hot(i, hash, now, &self.settings);
            if hot && copies.copying() {
                let marks = held.marks(i, hash, copies);
                drop(shard);
                copy_to_thread(copies, hash, key, &value, marks);
            }
            return Fresh::Hit(value);
        }
        Fresh::Hit(held.hit(i, hash, now, &self.settings))
    }

    /// Looks `key` up; on a miss, registers the caller's run (and, with single-flight, its
    /// flight). `held`: the shard, still locked by [`Store::fresh`]; `refresh`: a
    /// `refresh_*`, which runs whatever is stored.
    #[inline]
    pub(crate) fn begin<L: KeyRef<Owned = K>>(
        &self,
        hash: u64,
        key: &L,
        refresh: bool,
        held: Option<Held<'_, K, V>>,
    ) -> Found<K, V> {
        // Declared before the guard so that it drops after the lock is released.
        let mut expired = None;
        let (mut guard, now, at) = match held {
            Some(Held { shard, now, at }) => (shard, now, Some(at)),
            None => (self.shard(hash), self.now(), None),
        };
        // Dereferenced once: in a debug build every access through the guard is a call.
        let shard = &mut *guard;
        if !refresh {
            // Held since `fresh` probed: the index has not changed.
            let at = match at {
                Some(at) => at,
                None => shard.find(hash, key),
            };
            if let Some(i) = at {
                match shard.age(i, now, &self.settings.expiry) {
                    Age::Fresh => {
                        shard.stats.hits += 1;
                        return Found::Hit(shard.hit(i, hash, now, &self.settings));
                    }
                    Age::Stale => {
                        let value = shard.hit(i, hash, now, &self.settings);
                        // The first caller to find the entry stale starts its refresh (a miss
                        // where the body runs, a hit if it runs elsewhere); the others are
                        // served the stale value (hits).
                        let run = if shard.find_flight(hash, key).is_none() {
                            Some(shard.start_run(hash, key, true))
                        } else {
                            shard.stats.hits += 1;
                            None
                        };
                        return Found::Stale(value, run);
                    }
                    Age::Expired => {
                        shard.stats.expirations += 1;
                        expired = Some(shard.remove(i, &self.settings));
                    }
                }
            }
            if self.single_flight {
                let run = match shard.join_or_start(hash, key) {
                    Ok(f) => return Found::Join(f),
                    Err(run) => run,
                };
                drop(guard);
                drop(expired);
                return Found::Run(run);
            }
        }
        // A refresh supersedes a run in progress for the key, which began before it: that
        // run's callers keep its value, later callers join the refresh, and its result is not
        // stored over the refreshed one.
        let superseded = if refresh && self.single_flight {
            shard.detach_flight(hash, &|k| key.matches(k))
        } else {
            None
        };
        let mut run = shard.start_run(hash, key, self.single_flight);
        run.refresh = refresh;
        drop(guard);
        drop(superseded);
        drop(expired);
        Found::Run(run)
    }

    /// Where this store's copies sit in each thread's list of copy tables, if threads keep
    /// any.
    pub(crate) fn copies_id(&self) -> Option<usize> {
        self.copies.map(|c| c.id)
    }

    /// Counts a hit decided outside the shard's lock.
    pub(crate) fn count_hit(&self) {
        self.extra_hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Ends a run: forgets its flight, stores its value unless an invalidation overtook the
    /// run, hands the waiters their outcome, and counts the call (a miss if the body ran).
    pub(crate) fn complete(&self, hash: u64, key: K, run: Run<K, V>, done: Done<V>) {
        let Run {
            epoch,
            mut flight,
            doomed,
            refresh,
        } = run;
        let now = self.now();
        let mut dead = Graveyard::new();
        let mut guard = self.shard(hash);
        let shard = &mut *guard;
        if done.ran_body {
            shard.stats.misses += 1;
        } else {
            shard.stats.hits += 1;
        }
        let mut waiters = false;
        if let Some(f) = &flight {
            shard.forget_flight(f);
            // No one can join a flight once it left the table: the count is final.
            waiters = Arc::strong_count(f) > 1;
        }
        let cancelled = matches!(&flight, Some(f) if f.is_cancelled());
        let current = !doomed && shard.epoch == epoch && !cancelled;
        let for_waiters = match (&done.value, waiters) {
            (_, false) => Outcome::Retry,
            (Some(v), true) => Outcome::Value(v.clone()),
            (None, true) => done.unstored,
        };
        match (done.value, current) {
            (Some(value), true) => {
                if refresh && flight.is_none() {
                    // Runs without a flight cannot be superseded: those that began before
                    // this refresh stop at the epoch instead of overwriting its value.
                    shard.epoch += 1;
                }
                let until = match done.lives {
                    Some(lives) => now.saturating_add(lives),
                    None => u64::MAX,
                };
                let new = NewEntry {
                    hash,
                    key,
                    value,
                    tags: done.tags,
                    until,
                };
                shard.insert(new, now, &self.settings, &mut dead);
            }
            (Some(_), false) if refresh => {
                // Overtaken (an invalidation, a later refresh): the entry that is there may be
                // older than this refresh, which its caller now returns; it goes.
                let owned: &K = &key;
                if let Some(i) = shard.find(hash, &owned) {
                    dead.push(shard.remove(i, &self.settings));
                }
            }
            _ => {}
        }
        if !waiters {
            // No one else holds it: the next miss in this shard reuses it.
            shard.keep_spare(&mut flight);
        }
        drop(guard);
        // Without waiters there is no one to wake: a condvar's notify is a system call.
        if let (Some(f), true) = (flight, waiters) {
            f.finish(for_waiters);
        }
        drop(dead);
    }

    /// Removes the entry for `key`; true if there was one.
    pub(crate) fn invalidate<L: KeyRef<Owned = K>>(&self, key: &L) -> bool {
        self.invalidate_key(self.hash(key), &|k| key.matches(k))
    }

    /// [`Store::invalidate`] of the key that hashes to `hash` and that `key` matches: one
    /// function for each key and value type, not one for each type of borrowed key.
    fn invalidate_key(&self, hash: u64, key: &dyn Fn(&K) -> bool) -> bool {
        let mut guard = self.shard(hash);
        let shard = &mut *guard;
        // A run in progress for this key computes from data the caller says is outdated:
        // detached, it stores nothing and no later caller joins it.
        let detached = shard.detach_flight(hash, key);
        if !self.single_flight {
            shard.epoch += 1;
        }
        let mut node = None;
        if let Some(i) = shard.find_by(hash, key) {
            node = Some(shard.remove(i, &self.settings));
            shard.stats.invalidations += 1;
        }
        drop(guard);
        drop(detached);
        node.is_some()
    }

    /// Removes every entry (counted as invalidations); runs in progress store nothing.
    pub(crate) fn clear(&self) {
        for s in &self.shards {
            let taken = lock(&s.0).clear(&self.settings.room);
            drop(taken);
        }
    }

    /// Removes every entry labelled `tag`; returns how many.
    pub(crate) fn invalidate_tag(&self, tag: &str) -> usize {
        if !self.tagged {
            return 0;
        }
        let mut count = 0;
        for s in &self.shards {
            let mut dead = Graveyard::new();
            let mut guard = lock(&s.0);
            let shard = &mut *guard;
            // Runs in progress may compute an entry with this tag: those whose tags say so,
            // or are not known yet, are detached; runs without a flight cannot be told
            // apart, and the epoch stops them all.
            let detached = shard.detach_flights(&|f| f.may_carry(tag));
            if !self.single_flight {
                shard.epoch += 1;
            }
            // Highest slot first: each removal moves the last entry, which is then never
            // one still to be removed.
            for i in shard.tagged(tag) {
                dead.push(shard.remove(i, &self.settings));
            }
            shard.stats.invalidations += dead.len() as u64;
            count += dead.len();
            drop(guard);
            drop(detached);
        }
        count
    }

    /// The counters of every shard, and of the copies.
    pub(crate) fn stats(&self) -> CacheStats {
        let mut total = CacheStats::default();
        for s in &self.shards {
            total.add(&lock(&s.0).stats);
        }
        total.hits += self.extra_hits.load(Ordering::Relaxed);
        total.hits += self.copies.map_or(0, Copies::hits);
        total
    }
}

impl<K, V> Store<K, V> {
    #[inline]
    fn shard(&self, hash: u64) -> MutexGuard<'_, Shard<K, V>> {
        lock(&self.shards[shard_index(hash, self.mask)].0)
    }

    /// This store's id (see [`crate::ongoing`]).
    pub(crate) fn id(&self) -> usize {
        self.id
    }

    /// How many entries the store holds (expired ones not yet purged included).
    pub(crate) fn len(&self) -> usize {
        let mut len = 0;
        for s in &self.shards {
            len += lock(&s.0).len();
        }
        len
    }

    /// Takes a run's flight out of the table and cancels it: an invalidation in progress may
    /// cover the run (see [`crate::ongoing`]), and no caller that comes after may join it.
    pub(crate) fn doom(&self, flight: &Arc<Flight<K, V>>) {
        let mut shard = self.shard(flight.hash);
        shard.forget_flight(flight);
        flight.cancel();
    }

    /// Ends a run that produced nothing (the body panicked, or its future was dropped): the
    /// waiters wake and one of them runs the body. Counts a miss if the body ran.
    pub(crate) fn abandon(&self, hash: u64, flight: Option<&Arc<Flight<K, V>>>, ran_body: bool) {
        let mut guard = self.shard(hash);
        let shard = &mut *guard;
        if ran_body {
            shard.stats.misses += 1;
        }
        let Some(flight) = flight else { return };
        shard.forget_flight(flight);
        // As in `complete`: once out of the table the count of waiters is final.
        let waiters = Arc::strong_count(flight) > 1;
        drop(guard);
        if waiters {
            flight.finish(Outcome::Retry);
        }
    }
}
