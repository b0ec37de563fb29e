//! The in-memory store: 2^k shards, each an exact LRU list over a dense slab of entries
//! with a hashbrown index, behind its own mutex.
//!
//! A lookup hashes the borrowed key once (outside any lock), picks a shard from the high
//! bits and probes that shard's table, comparing against the slab's owned keys; a hit
//! clones the value and moves the entry to the front of the shard's list. Entries live in a
//! dense `Vec`: a removal moves the last entry into the hole, so memory follows the live
//! entries and the slab can shrink. Counters live inside the shard, under the lock the
//! operation holds anyway, so a hit pays no extra atomic.
//!
//! Where threads keep fronts (see [`crate::front`]), a shard also bumps a version stripe on
//! every removal and publishes its move count, under its lock, and a hit on a hot entry
//! leaves a copy in the calling thread's front.

use crate::clock;
use crate::config::Config;
use crate::flight::{Flight, Outcome};
use crate::front::{Fronts, Padded, Replica, ShardFront};
use crate::key::KeyRef;
use crate::stats::CacheStats;
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::sync::{Mutex, MutexGuard};
use crate::tags::TagIndex;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};
use std::num::NonZeroUsize;
use std::sync::Arc;

/// Hands each store its [`Store::id`].
static NEXT_STORE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// "No entry" in the list links.
const NIL: u32 = u32::MAX;
/// The most entries a shard's slab can index.
const MAX_SLOTS: usize = (u32::MAX - 1) as usize;
/// A bounded cache gets no more shards than keep this many entries each, so a small
/// capacity (under `2 * MIN_PER_SHARD`) has a single shard and exact LRU order.
pub(crate) const MIN_PER_SHARD: usize = 256;
/// Expired entries looked at per store, to purge those nobody reads again.
const SWEEP_STEP: usize = 2;

type Hasher = foldhash::fast::RandomState;

/// One cached entry and its place in the shard's LRU list.
pub(crate) struct Node<K, V> {
    key: K,
    value: V,
    /// Towards the most recently used end.
    prev: u32,
    /// Towards the least recently used end.
    next: u32,
    /// When the entry stops being fresh: `min(hard, last use + tti)`, where `hard` is when
    /// its `ttl` runs out (see [`Shard::hard`]).
    deadline: u64,
}

/// Entries taken out under a shard's lock, dropped after it is released (their `Drop` is
/// user code). One entry, the common case of a store that evicts, needs no allocation.
pub(crate) struct Graveyard<K, V> {
    one: Option<Node<K, V>>,
    more: Vec<Node<K, V>>,
}

impl<K, V> Graveyard<K, V> {
    fn new() -> Self {
        Graveyard {
            one: None,
            more: Vec::new(),
        }
    }

    fn push(&mut self, node: Node<K, V>) {
        match self.one {
            None => self.one = Some(node),
            Some(_) => self.more.push(node),
        }
    }

    fn len(&self) -> usize {
        usize::from(self.one.is_some()) + self.more.len()
    }
}

/// The expiry settings in clock nanoseconds (`u64::MAX`: none).
struct Expiry {
    ttl: u64,
    tti: u64,
    /// How long past `hard` a value may still be served while it is refreshed (0: never).
    stale: u64,
}

impl Expiry {
    fn any(&self) -> bool {
        self.ttl != u64::MAX || self.tti != u64::MAX
    }

    /// Whether entries need their `ttl` deadline kept apart from `deadline`: only when a
    /// `tti` moves `deadline` and a `ttl` bounds it.
    fn keeps_hard(&self) -> bool {
        self.ttl != u64::MAX && self.tti != u64::MAX
    }
}

/// What an entry's age makes it.
enum Age {
    Fresh,
    /// Past its ttl, inside the stale window: served while one refresh runs.
    Stale,
    Expired,
}

/// The result of looking a key up, under the shard's lock.
pub(crate) enum Begin<K, V> {
    /// A fresh value.
    Hit(V),
    /// A stale value; `Some` when this caller is to refresh it (it leads the refresh).
    Stale(V, Option<Lead<K, V>>),
    /// Another caller is running the body for this key.
    Wait(Arc<Flight<K, V>>),
    /// This caller runs the body.
    Lead(Lead<K, V>),
}

/// A shard [`Store::fresh`] found no fresh entry in, still locked, and the time it read.
pub(crate) struct Held<'a, K, V> {
    shard: MutexGuard<'a, Shard<K, V>>,
    now: u64,
}

/// What a caller that runs the body needs to store its result.
pub(crate) struct Lead<K, V> {
    /// The shard's epoch when the run began. Runs without a flight (`single_flight = false`)
    /// cannot be detached: an invalidation moves the epoch instead, and a run that began
    /// before it stores nothing.
    pub(crate) epoch: u64,
    pub(crate) flight: Option<Arc<Flight<K, V>>>,
    /// An invalidation in progress may cover the run (see [`crate::ongoing`]): it stores
    /// nothing.
    pub(crate) doomed: bool,
    /// A `refresh_*`: without a flight, storing its value moves the epoch, so that a run that
    /// began before it cannot overwrite the refreshed value with an older one; overtaken, it
    /// removes the entry it was to replace.
    pub(crate) refresh: bool,
}

/// A shard behind its lock, on its own cache lines, so that threads on neighbouring shards
/// do not contend.
type LockedShard<K, V> = Padded<Mutex<Shard<K, V>>>;

/// A whole cache: the shards and the settings they share.
pub(crate) struct Store<K, V> {
    /// Tells this store from the others, for the invalidations in progress (see
    /// [`crate::ongoing`]).
    id: usize,
    shards: Box<[LockedShard<K, V>]>,
    mask: usize,
    hasher: Hasher,
    expiry: Expiry,
    single_flight: bool,
    /// Whether a hit moves its entry to the front of its shard's LRU list: not in an
    /// unbounded cache, which evicts nothing.
    promote: bool,
    /// Whether entries carry tags (the function has a `tags` option): a tag invalidation
    /// passes over the other stores.
    tagged: bool,
    /// Calls counted outside the shards: answered by another caller's run, or by a stale
    /// value whose refresh runs elsewhere (hits), or refreshing a stale value (misses).
    extra_hits: AtomicU64,
    extra_misses: AtomicU64,
    /// The threads' fronts (see [`crate::front`]), where they can serve hits.
    fronts: Option<&'static Fronts>,
}

struct Shard<K, V> {
    index: HashTable<u32>,
    nodes: Vec<Node<K, V>>,
    /// The `ttl` deadline of each entry, beside `nodes`, when [`Expiry::keeps_hard`]:
    /// every other cache saves the eight bytes an entry.
    hards: Vec<u64>,
    /// The shard's [`Shard::tick`] when each entry last moved to the front, beside `nodes`,
    /// when `window` is not 0.
    stamps: Vec<u32>,
    /// Most recently used.
    head: u32,
    /// Least recently used: evicted first.
    tail: u32,
    capacity: usize,
    /// Counts moves to the front (wrapping): an entry moved fewer than `window` moves ago is
    /// still in the front part of the list.
    tick: u32,
    /// How recently moved an entry may be and still skip the move on a hit: 0 (always
    /// move: exact LRU) in a single-shard cache, a quarter of the shard's capacity in a
    /// sharded one. A hit on an entry in the front quarter writes nothing to the list, so
    /// the hot entries of a busy cache are read without touching other entries' memory;
    /// such an entry cannot reach the tail without passing the three other quarters, and
    /// its next hit there moves it.
    window: u32,
    /// Where the expiry sweep looks next.
    cursor: usize,
    flights: HashTable<Arc<Flight<K, V>>>,
    /// A finished flight no one else holds, for the next miss to reuse (keys without drop
    /// glue only: reusing one drops the old key, under the lock).
    spare: Option<Arc<Flight<K, V>>>,
    tags: Option<Box<TagIndex>>,
    epoch: u64,
    stats: CacheStats,
    /// Where removals void the fronts' copies and moves are published, with fronts.
    front: Option<ShardFront>,
}

/// A shard's lock. A panic under it can only come from a user's `Eq`, `Hash` or `Clone`,
/// before the shard is changed: the lock is released and the data stays consistent
/// (`parking_lot` has no poisoning to check on every lock and unlock).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock()
}

/// How many shards a cache of this capacity gets: a power of two, at most four per core.
pub(crate) fn shard_count(capacity: Option<usize>) -> usize {
    let cores = std::thread::available_parallelism().map_or(4, NonZeroUsize::get);
    let most = (cores * 4).next_power_of_two().min(256);
    match capacity {
        None => most,
        Some(c) => {
            let by_capacity = (c / MIN_PER_SHARD).max(1);
            // the largest power of two not above `by_capacity`
            (1_usize << by_capacity.ilog2()).min(most)
        }
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static, V: Clone + Send + Sync + 'static> Store<K, V> {
    /// A store; `front`: whether threads may keep fronts of it (see [`crate::front`]).
    pub(crate) fn new(config: &Config, front: bool) -> Self {
        let n = shard_count(config.capacity);
        let hasher = Hasher::default();
        let capacity_of = |i| shard_capacity(config, n, i);
        let window_of = |i| shard_window(config, n, i);
        let fronts = fronts_for(
            config,
            n,
            &hasher,
            front && const { fronts_possible::<K, V>() },
        );
        let shards = (0..n)
            .map(|i| {
                let capacity = capacity_of(i);
                Padded(Mutex::new(Shard {
                    index: HashTable::new(),
                    nodes: Vec::new(),
                    hards: Vec::new(),
                    stamps: Vec::new(),
                    head: NIL,
                    tail: NIL,
                    capacity: capacity.min(MAX_SLOTS),
                    tick: 0,
                    window: window_of(i),
                    cursor: 0,
                    flights: HashTable::new(),
                    spare: None,
                    tags: None,
                    epoch: 0,
                    stats: CacheStats::default(),
                    front: fronts.map(|f| f.shard(i)),
                }))
            })
            .collect();
        let opt = |d: Option<std::time::Duration>| d.map_or(u64::MAX, clock::nanos);
        Store {
            shards,
            mask: n - 1,
            hasher,
            expiry: Expiry {
                ttl: opt(config.ttl),
                tti: opt(config.tti),
                stale: config.ttl.and(config.stale).map_or(0, clock::nanos),
            },
            single_flight: config.single_flight,
            promote: config.capacity.is_some(),
            tagged: config.tagged,
            extra_hits: AtomicU64::new(0),
            extra_misses: AtomicU64::new(0),
            fronts,
            id: NEXT_STORE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    #[inline]
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    fn now(&self) -> u64 {
        if self.expiry.any() { clock::now() } else { 0 }
    }

    /// The hit path: a fresh value for `key`, if there is one. Anything else (a miss, a
    /// stale or expired entry) is left to [`Store::begin`].
    /// Past a fresh hit, the shard stays locked for [`Store::begin`] to go on with.
    #[inline]
    pub(crate) fn fresh<L: KeyRef<Owned = K>>(
        &self,
        hash: u64,
        key: &L,
    ) -> Result<V, Held<'_, K, V>> {
        let now = self.now();
        let mut shard = self.shard(hash);
        let Some(i) = shard.find(hash, key) else {
            return Err(Held { shard, now });
        };
        if !matches!(shard.age(i, now, &self.expiry), Age::Fresh) {
            return Err(Held { shard, now });
        }
        shard.stats.hits += 1;
        // A constant condition: stores of types that cannot have fronts carry none of this
        // code, not even in a debug build.
        if const { fronts_possible::<K, V>() }
            && let Some(fronts) = self.fronts
        {
            // Only an entry read lately, still in the front quarter of its shard, is
            // copied: a cold entry's copy would only push a hot one out of the front.
            let hot = !self.promote || shard.recently_moved(i);
            let value = shard.hit(i, now, &self.expiry, self.promote);
            if hot && fronts.copying() {
                let marks = shard.marks(i, hash, fronts);
                drop(shard);
                copy_to_front(fronts, hash, key, &value, marks);
            }
            return Ok(value);
        }
        Ok(shard.hit(i, now, &self.expiry, self.promote))
    }

    /// Looks `key` up; on a miss, registers the caller as the one to run the body. `held`:
    /// the shard, still locked by [`Store::fresh`].
    #[inline]
    pub(crate) fn begin<L: KeyRef<Owned = K>>(
        &self,
        hash: u64,
        key: &L,
        refresh: bool,
        held: Option<Held<'_, K, V>>,
    ) -> Begin<K, V> {
        // Declared before the guard so that it drops after the lock is released.
        let mut expired = None;
        let (mut shard, now) = match held {
            Some(Held { shard, now }) => (shard, now),
            None => (self.shard(hash), self.now()),
        };
        if !refresh {
            if let Some(i) = shard.find(hash, key) {
                match shard.age(i, now, &self.expiry) {
                    Age::Fresh => {
                        shard.stats.hits += 1;
                        return Begin::Hit(shard.hit(i, now, &self.expiry, self.promote));
                    }
                    Age::Stale => {
                        let value = shard.hit(i, now, &self.expiry, self.promote);
                        // The first caller to find the entry stale starts its refresh (counted
                        // by the caller: a miss if it runs the body, a hit if the refresh runs
                        // elsewhere); the others are served the stale value (hits).
                        let lead = if shard.find_flight(hash, key).is_none() {
                            Some(shard.lead(hash, key, true))
                        } else {
                            shard.stats.hits += 1;
                            None
                        };
                        return Begin::Stale(value, lead);
                    }
                    Age::Expired => {
                        shard.stats.expirations += 1;
                        expired = Some(shard.remove(i, &self.hasher));
                    }
                }
            }
            if self.single_flight
                && let Some(f) = shard.find_flight(hash, key)
            {
                return Begin::Wait(Arc::clone(f));
            }
        }
        shard.stats.misses += 1;
        // A refresh supersedes a run in progress for the key, which began before it: that
        // run's callers keep its value, later callers join the refresh, and its result is not
        // stored over the refreshed one.
        let superseded = if refresh && self.single_flight {
            shard.detach_flight(hash, key)
        } else {
            None
        };
        let mut lead = shard.lead(hash, key, self.single_flight);
        lead.refresh = refresh;
        drop(shard);
        drop(superseded);
        drop(expired);
        Begin::Lead(lead)
    }

    /// Where this store's copies sit in each thread's fronts, if threads keep any.
    pub(crate) fn front_id(&self) -> Option<usize> {
        self.fronts.map(|f| f.id)
    }

    /// Counts a hit decided outside the shard's lock.
    pub(crate) fn count_hit(&self) {
        self.extra_hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a miss decided outside the shard's lock.
    pub(crate) fn count_miss(&self) {
        self.extra_misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Ends a run: forgets its flight, stores `value` unless an invalidation overtook the
    /// run, and hands the waiters their value (`value`, else `unstored`).
    #[allow(clippy::too_many_arguments)] // the one caller passes a finished run apart
    pub(crate) fn complete(
        &self,
        hash: u64,
        key: K,
        value: Option<V>,
        unstored: Outcome<V>,
        tags: Option<Vec<String>>,
        lead: Lead<K, V>,
    ) {
        let Lead {
            epoch,
            mut flight,
            doomed,
            refresh,
        } = lead;
        let now = self.now();
        let mut dead = Graveyard::new();
        let mut shard = self.shard(hash);
        let mut waiters = false;
        if let Some(f) = &flight {
            shard.forget_flight(f);
            // No one can join a flight once it left the table: the count is final.
            waiters = Arc::strong_count(f) > 1;
        }
        let current =
            !doomed && shard.epoch == epoch && !flight.as_ref().is_some_and(|f| f.is_cancelled());
        let for_waiters = match (&value, waiters) {
            (_, false) => Outcome::Retry,
            (Some(v), true) => Outcome::Value(v.clone()),
            (None, true) => unstored,
        };
        match (value, current) {
            (Some(value), true) => {
                if refresh && flight.is_none() {
                    // Runs without a flight cannot be superseded: those that began before
                    // this refresh stop at the epoch instead of overwriting its value.
                    shard.epoch += 1;
                }
                shard.insert(
                    hash,
                    key,
                    value,
                    tags,
                    now,
                    &self.expiry,
                    &self.hasher,
                    &mut dead,
                );
            }
            (Some(_), false) if refresh => {
                // Overtaken (an invalidation, a later refresh): the entry that is there may be
                // older than this refresh, which its caller now returns; it goes.
                let owned: &K = &key;
                if let Some(i) = shard.find(hash, &owned) {
                    dead.push(shard.remove(i, &self.hasher));
                }
            }
            _ => {}
        }
        if !waiters && !std::mem::needs_drop::<K>() && shard.spare.is_none() {
            // No one else holds it: the next miss in this shard reuses it.
            shard.spare = flight.take();
        }
        drop(shard);
        // Without waiters there is no one to wake: a condvar's notify is a system call.
        if let (Some(f), true) = (flight, waiters) {
            f.finish(for_waiters);
        }
        drop(dead);
    }

    /// Removes the entry for `key`; true if there was one.
    pub(crate) fn invalidate<L: KeyRef<Owned = K>>(&self, key: &L) -> bool {
        let hash = self.hash(key);
        let mut shard = self.shard(hash);
        // A run in progress for this key computes from data the caller says is outdated:
        // detached, it stores nothing and no later caller joins it.
        let detached = shard.detach_flight(hash, key);
        if !self.single_flight {
            shard.epoch += 1;
        }
        let node = shard.find(hash, key).map(|i| shard.remove(i, &self.hasher));
        if node.is_some() {
            shard.stats.invalidations += 1;
        }
        drop(shard);
        drop(detached);
        node.is_some()
    }

    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(&s.0).nodes.len()).sum()
    }

    pub(crate) fn clear(&self) {
        for s in &self.shards {
            let (nodes, _detached) = {
                let mut shard = lock(&s.0);
                shard.stats.invalidations += shard.nodes.len() as u64;
                shard.epoch += 1;
                let detached = shard.detach_flights(|_| true);
                if let Some(f) = &shard.front {
                    f.bump_all();
                }
                shard.index = HashTable::new();
                shard.tags = None;
                shard.head = NIL;
                shard.tail = NIL;
                shard.cursor = 0;
                shard.hards = Vec::new();
                shard.stamps = Vec::new();
                (std::mem::take(&mut shard.nodes), detached)
            };
            drop(nodes);
        }
    }

    pub(crate) fn invalidate_tag(&self, tag: &str) -> usize {
        if !self.tagged {
            return 0;
        }
        let mut count = 0;
        for s in &self.shards {
            let mut dead = Graveyard::new();
            let mut shard = lock(&s.0);
            // Runs in progress may compute an entry with this tag: those whose tags say so,
            // or are not known yet, are detached; runs without a flight cannot be told
            // apart, and the epoch stops them all.
            let detached = shard.detach_flights(|f| f.may_carry(tag));
            if !self.single_flight {
                shard.epoch += 1;
            }
            let slots = shard.tags.as_mut().map(|t| t.take(tag)).unwrap_or_default();
            // Highest slot first: each removal moves the last entry, which is then never
            // one still to be removed.
            for i in slots {
                dead.push(shard.remove(i, &self.hasher));
            }
            shard.stats.invalidations += dead.len() as u64;
            count += dead.len();
            drop(shard);
            drop(detached);
        }
        count
    }

    pub(crate) fn stats(&self) -> CacheStats {
        let mut total = CacheStats::default();
        for s in &self.shards {
            total.add(&lock(&s.0).stats);
        }
        total.hits += self.extra_hits.load(Ordering::Relaxed);
        total.hits += self.fronts.map_or(0, Fronts::hits);
        total.misses += self.extra_misses.load(Ordering::Relaxed);
        total
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Shard<K, V> {
    /// What a front's copy of entry `i` records: the version of its stripe, its deadline
    /// and its move stamp.
    fn marks(&self, i: u32, hash: u64, fronts: &Fronts) -> ((u32, u64), u64, u32) {
        let stamp = if self.window == 0 {
            0
        } else {
            self.stamps[i as usize]
        };
        (fronts.version(hash), self.nodes[i as usize].deadline, stamp)
    }

    #[inline]
    fn find<L: KeyRef<Owned = K>>(&self, hash: u64, key: &L) -> Option<u32> {
        let nodes = &self.nodes;
        self.index
            .find(hash, |&i| key.matches(&nodes[i as usize].key))
            .copied()
    }

    fn find_flight<L: KeyRef<Owned = K>>(&self, hash: u64, key: &L) -> Option<&Arc<Flight<K, V>>> {
        self.flights.find(hash, |f| key.matches(&f.key))
    }

    /// Registers a run of the body for `key` (a flight when `share`).
    fn lead<L: KeyRef<Owned = K>>(&mut self, hash: u64, key: &L, share: bool) -> Lead<K, V> {
        let flight = share.then(|| {
            let owned = key.to_owned_key();
            let f = match self.spare.take() {
                Some(mut f) => match Arc::get_mut(&mut f) {
                    Some(spare) => {
                        spare.reuse(hash, owned);
                        f
                    }
                    None => Arc::new(Flight::new(hash, owned)),
                },
                None => Arc::new(Flight::new(hash, owned)),
            };
            self.flights.insert_unique(hash, Arc::clone(&f), |f| f.hash);
            f
        });
        Lead {
            epoch: self.epoch,
            flight,
            doomed: false,
            refresh: false,
        }
    }

    /// Takes the flight of `key` out of the table and cancels it (see [`crate::flight`]).
    fn detach_flight<L: KeyRef<Owned = K>>(
        &mut self,
        hash: u64,
        key: &L,
    ) -> Option<Arc<Flight<K, V>>> {
        let entry = self
            .flights
            .find_entry(hash, |f| key.matches(&f.key))
            .ok()?;
        let (flight, _) = entry.remove();
        flight.cancel();
        Some(flight)
    }

    /// When entry `i`'s `ttl` runs out (`u64::MAX`: never).
    #[inline]
    fn hard(&self, i: u32, expiry: &Expiry) -> u64 {
        if expiry.keeps_hard() {
            self.hards[i as usize]
        } else if expiry.tti == u64::MAX {
            self.nodes[i as usize].deadline
        } else {
            u64::MAX
        }
    }

    #[inline]
    fn age(&self, i: u32, now: u64, expiry: &Expiry) -> Age {
        let deadline = self.nodes[i as usize].deadline;
        if now < deadline {
            return Age::Fresh;
        }
        let hard = self.hard(i, expiry);
        if expiry.stale != 0 && deadline == hard && now < hard.saturating_add(expiry.stale) {
            Age::Stale
        } else {
            Age::Expired
        }
    }

    /// Reads a live entry: refreshes its idle deadline and moves it to the front.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hit(&mut self, i: u32, now: u64, expiry: &Expiry, promote: bool) -> V {
        // Cloned before anything changes: a panicking `Clone` leaves the shard as it was.
        let value = self.nodes[i as usize].value.clone();
        if expiry.tti != u64::MAX && now < self.nodes[i as usize].deadline {
            let hard = self.hard(i, expiry);
            self.nodes[i as usize].deadline = hard.min(now.saturating_add(expiry.tti));
        }
        if promote && self.head != i && !self.recently_moved(i) {
            self.move_to_front(i);
        }
        value
    }

    /// The LRU move of a hit, out of line: most hits in a busy sharded cache skip it.
    #[inline(never)]
    fn move_to_front(&mut self, i: u32) {
        self.unlink(i);
        self.push_front(i);
    }

    #[allow(clippy::too_many_arguments)] // one call site, all of it the shard's context
    fn insert(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        tags: Option<Vec<String>>,
        now: u64,
        expiry: &Expiry,
        hasher: &Hasher,
        dead: &mut Graveyard<K, V>,
    ) {
        let nodes = &self.nodes;
        if let Some(&i) = self.index.find(hash, |&j| nodes[j as usize].key == key) {
            dead.push(self.remove(i, hasher));
        }
        if self.nodes.len() >= MAX_SLOTS {
            return;
        }
        let hard = now.saturating_add(expiry.ttl);
        let deadline = hard.min(now.saturating_add(expiry.tti));
        if self.nodes.len() >= self.capacity && self.tail != NIL {
            // Full: the least recently used entry goes, and its slot takes the new one, so
            // no other entry moves in the slab (nor is rehashed to be found again).
            let i = self.tail;
            self.detach(i, hasher);
            let node = Node {
                key,
                value,
                prev: NIL,
                next: NIL,
                deadline,
            };
            dead.push(std::mem::replace(&mut self.nodes[i as usize], node));
            self.stats.evictions += 1;
            if expiry.keeps_hard() {
                self.hards[i as usize] = hard;
            }
            self.link_new(i, hash, tags, hasher);
        } else {
            self.push_new(hash, key, value, tags, hard, deadline, expiry, hasher);
            while self.nodes.len() > self.capacity && self.tail != NIL {
                let last = self.tail;
                dead.push(self.remove(last, hasher));
                self.stats.evictions += 1;
            }
        }
        if expiry.any() {
            self.sweep(now, expiry, hasher, dead);
        }
    }

    /// Adds an entry at the end of the slab (growing it if need be).
    #[allow(clippy::too_many_arguments)] // `insert`'s context, passed on
    fn push_new(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        tags: Option<Vec<String>>,
        hard: u64,
        deadline: u64,
        expiry: &Expiry,
        hasher: &Hasher,
    ) {
        let len = self.nodes.len();
        let i = u32::try_from(len).unwrap_or(NIL);
        if len == self.nodes.capacity() {
            // Grow by half, never past the shard's capacity: a full shard has no slack.
            let more = (len / 2)
                .max(8)
                .min(self.capacity.saturating_sub(len).max(1));
            self.nodes.reserve_exact(more);
            if expiry.keeps_hard() {
                self.hards.reserve_exact(more);
            }
            if self.window != 0 {
                self.stamps.reserve_exact(more);
            }
        }
        self.nodes.push(Node {
            key,
            value,
            prev: NIL,
            next: NIL,
            deadline,
        });
        if expiry.keeps_hard() {
            self.hards.push(hard);
        }
        if self.window != 0 {
            self.stamps.push(0);
        }
        self.link_new(i, hash, tags, hasher);
    }

    /// Puts the new entry in slot `i` at the front of the list, in the index and under its
    /// tags.
    fn link_new(&mut self, i: u32, hash: u64, tags: Option<Vec<String>>, hasher: &Hasher) {
        self.push_front(i);
        let nodes = &self.nodes;
        self.index
            .insert_unique(hash, i, |&j| hasher.hash_one(&nodes[j as usize].key));
        if let Some(tags) = tags {
            self.tags.get_or_insert_default().add(i, tags);
        }
    }

    /// Looks at the next few entries and removes the expired ones, so that entries nobody
    /// reads again do not stay (amortised over stores, whatever the keys).
    fn sweep(&mut self, now: u64, expiry: &Expiry, hasher: &Hasher, dead: &mut Graveyard<K, V>) {
        for _ in 0..SWEEP_STEP {
            if self.nodes.is_empty() {
                return;
            }
            if self.cursor >= self.nodes.len() {
                self.cursor = 0;
            }
            #[allow(clippy::cast_possible_truncation)] // below MAX_SLOTS
            let i = self.cursor as u32;
            if let Age::Expired = self.age(i, now, expiry) {
                // The last entry moves into `i`: the cursor stays to look at it next.
                dead.push(self.remove(i, hasher));
                self.stats.expirations += 1;
            } else {
                self.cursor += 1;
            }
        }
    }

    /// Takes entry `i` out of the list, the index and the tags (voiding the fronts' copies);
    /// its slot stays, for the caller to fill or remove.
    fn detach(&mut self, i: u32, hasher: &Hasher) {
        self.unlink(i);
        let h = hasher.hash_one(&self.nodes[i as usize].key);
        if let Ok(e) = self.index.find_entry(h, |&j| j == i) {
            e.remove();
        }
        if let Some(f) = &self.front {
            f.bump(h);
        }
        if let Some(t) = &mut self.tags {
            t.remove_slot(i);
        }
    }

    /// Takes entry `i` out; the last entry moves into its slot.
    fn remove(&mut self, i: u32, hasher: &Hasher) -> Node<K, V> {
        self.detach(i, hasher);
        #[allow(clippy::cast_possible_truncation)] // below MAX_SLOTS
        let last = (self.nodes.len() - 1) as u32;
        let node = self.nodes.swap_remove(i as usize);
        if !self.hards.is_empty() {
            self.hards.swap_remove(i as usize);
        }
        if !self.stamps.is_empty() {
            self.stamps.swap_remove(i as usize);
        }
        if i != last {
            let (prev, next) = (self.nodes[i as usize].prev, self.nodes[i as usize].next);
            self.link_prev(next, i);
            self.link_next(prev, i);
            let h = hasher.hash_one(&self.nodes[i as usize].key);
            if let Some(slot) = self.index.find_mut(h, |&j| j == last) {
                *slot = i;
            }
            if let Some(t) = &mut self.tags {
                t.move_slot(last, i);
            }
        }
        self.shrink(hasher);
        node
    }

    /// Gives memory back once most of the slab is unused.
    fn shrink(&mut self, hasher: &Hasher) {
        let len = self.nodes.len();
        if self.nodes.capacity() > 64 && len * 4 < self.nodes.capacity() {
            self.nodes.shrink_to(len * 2);
            self.hards.shrink_to(len * 2);
            self.stamps.shrink_to(len * 2);
            let nodes = &self.nodes;
            self.index
                .shrink_to(len, |&j| hasher.hash_one(&nodes[j as usize].key));
        }
    }

    /// Points `at`'s `prev` link to `to`; with `at` NIL, `to` becomes the tail.
    fn link_prev(&mut self, at: u32, to: u32) {
        if at == NIL {
            self.tail = to;
        } else {
            self.nodes[at as usize].prev = to;
        }
    }

    /// Points `at`'s `next` link to `to`; with `at` NIL, `to` becomes the head.
    fn link_next(&mut self, at: u32, to: u32) {
        if at == NIL {
            self.head = to;
        } else {
            self.nodes[at as usize].next = to;
        }
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = (self.nodes[i as usize].prev, self.nodes[i as usize].next);
        self.link_next(prev, next);
        self.link_prev(next, prev);
    }

    /// Whether entry `i` moved to the front fewer than `window` moves ago.
    #[inline]
    fn recently_moved(&self, i: u32) -> bool {
        self.window != 0 && self.tick.wrapping_sub(self.stamps[i as usize]) < self.window
    }

    fn push_front(&mut self, i: u32) {
        let old = self.head;
        if self.window != 0 {
            self.tick = self.tick.wrapping_add(1);
            self.stamps[i as usize] = self.tick;
            if let Some(f) = &self.front {
                f.set_tick(self.tick);
            }
        }
        {
            let n = &mut self.nodes[i as usize];
            n.prev = NIL;
            n.next = old;
        }
        self.link_prev(old, i);
        self.head = i;
    }
}

/// The shard of the entry for `hash`, of `mask + 1` shards: bits 32 up (the table probes
/// with the low bits and the top seven). The store and its fronts both place entries by it.
#[inline]
pub(crate) fn shard_index(hash: u64, mask: usize) -> usize {
    #[allow(clippy::cast_possible_truncation)] // only the low bits of the shifted hash matter
    let i = (hash >> 32) as usize & mask;
    i
}

/// Shard `i`'s share of the capacity, of `n` shards.
fn shard_capacity(config: &Config, n: usize, i: usize) -> usize {
    config
        .capacity
        .map_or(usize::MAX, |c| c / n + usize::from(i < c % n))
}

/// Shard `i`'s `window` (see [`Shard::window`]), of `n` shards.
fn shard_window(config: &Config, n: usize, i: usize) -> u32 {
    if n == 1 || config.capacity.is_none() {
        0
    } else {
        u32::try_from(shard_capacity(config, n, i) / 4).unwrap_or(u32::MAX)
    }
}

/// The fronts of a store of `n` shards, if threads may keep any: only where they change
/// nothing a caller sees (see [`crate::front`]). `possible`: the store's types allow them.
/// Not generic, like the other parts of a store's set-up that need not be.
fn fronts_for(
    config: &Config,
    n: usize,
    hasher: &Hasher,
    possible: bool,
) -> Option<&'static Fronts> {
    let wanted = possible && (n > 1 || config.capacity.is_none()) && config.tti.is_none();
    wanted.then(|| {
        let windows: Vec<u32> = (0..n).map(|i| shard_window(config, n, i)).collect();
        let fronts: &'static Fronts = Box::leak(Box::new(Fronts::new(
            hasher.clone(),
            config.capacity.map(|c| c / n),
            &windows,
        )));
        fronts
    })
}

/// Whether threads may keep fronts of a store of `K` and `V`: only when neither has drop
/// glue (see [`crate::front`]). Known at compile time, so that the front's code leaves the
/// other stores' hit paths altogether.
#[inline(always)]
pub(crate) const fn fronts_possible<K, V>() -> bool {
    !std::mem::needs_drop::<K>() && !std::mem::needs_drop::<V>()
}

/// Copies an entry the store just served into the calling thread's front; out of line, so
/// that the hit path stays small.
#[inline(never)]
fn copy_to_front<K, V, L>(
    fronts: &'static Fronts,
    hash: u64,
    key: &L,
    value: &V,
    marks: ((u32, u64), u64, u32),
) where
    K: Hash + Eq + 'static,
    V: Clone + 'static,
    L: KeyRef<Owned = K>,
{
    let ((stripe, version), deadline, stamp) = marks;
    fronts.fill(hash, || Replica {
        key: key.to_owned_key(),
        value: value.clone(),
        version,
        deadline,
        stamp,
        stripe,
    });
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

    /// Takes a run's flight out of the table and cancels it: an invalidation in progress may
    /// cover the run (see [`crate::ongoing`]), and no caller that comes after may join it.
    pub(crate) fn doom(&self, flight: &Arc<Flight<K, V>>) {
        let mut shard = self.shard(flight.hash);
        shard.forget_flight(flight);
        flight.cancel();
    }

    /// Ends a run that produced nothing (the body panicked or its future was dropped): the
    /// waiters wake and one of them runs the body.
    pub(crate) fn abandon(&self, flight: &Arc<Flight<K, V>>) {
        let mut shard = self.shard(flight.hash);
        shard.forget_flight(flight);
        // As in `complete`: once out of the table the count of waiters is final.
        let waiters = Arc::strong_count(flight) > 1;
        drop(shard);
        if waiters {
            flight.finish(Outcome::Retry);
        }
    }
}

impl<K, V> Shard<K, V> {
    /// Takes the flights that `which` picks out of the table and cancels them; they are
    /// returned to be dropped once the lock is released.
    fn detach_flights(
        &mut self,
        mut which: impl FnMut(&Flight<K, V>) -> bool,
    ) -> Vec<Arc<Flight<K, V>>> {
        let mut detached = Vec::new();
        self.flights.retain(|f| {
            if which(f) {
                f.cancel();
                detached.push(Arc::clone(f));
                false
            } else {
                true
            }
        });
        detached
    }

    fn forget_flight(&mut self, flight: &Arc<Flight<K, V>>) {
        if let Ok(e) = self
            .flights
            .find_entry(flight.hash, |f| Arc::ptr_eq(f, flight))
        {
            e.remove();
        }
    }
}

#[cfg(test)]
mod tests;
