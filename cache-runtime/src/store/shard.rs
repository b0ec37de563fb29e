//! One shard of a store: a dense slab of entries with a hashbrown index, its LRU order, the
//! table of its flights, its tags and its counters, all behind the shard's one lock.
//!
//! Entries live in a dense `Vec`: a removal moves the last entry into the hole, so memory
//! follows the live entries and the slab can shrink. Counters live here, under the lock the
//! operation holds anyway, so a hit pays no extra atomic. Where threads keep copies (see
//! [`crate::copies`]), every removal bumps its entry's version stripe and every move to the
//! front publishes the shard's tick, under the lock.

use super::entry::{Graveyard, NewEntry, Node};
use super::expiry::{Age, Expiry};
use super::order::{Links, Order};
use crate::copies::{Copies, CopyMarks, ShardCopies};
use crate::flight::Flight;
use crate::key::KeyRef;
use crate::stats::CacheStats;
use crate::tags::TagIndex;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// The store's hasher: seeded per process.
pub(super) type Hasher = foldhash::fast::RandomState;

/// The most entries a shard's slab can index.
const MAX_SLOTS: usize = (u32::MAX - 1) as usize;
/// Expired entries looked at per store, to purge those nobody reads again.
const SWEEP_STEP: usize = 2;

/// What every shard of a store shares, and passes to its operations.
pub(super) struct Settings {
    pub(super) hasher: Hasher,
    pub(super) expiry: Expiry,
    /// Whether a hit moves its entry to the front of the LRU order: not in an unbounded
    /// cache, which evicts nothing.
    pub(super) promote: bool,
}

/// What the store hands the caller that runs the body (see [`super::Found::Run`]), for it to
/// hand back with the result.
pub(crate) struct Run<K, V> {
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

/// What a `clear` took out of a shard, to drop once its lock is released.
pub(super) struct Cleared<K, V> {
    _nodes: Vec<Node<K, V>>,
    _flights: Vec<Arc<Flight<K, V>>>,
}

pub(super) struct Shard<K, V> {
    index: HashTable<u32>,
    nodes: Vec<Node<K, V>>,
    /// The `ttl` deadline of each entry, beside `nodes`, when [`Expiry::keeps_hard`]:
    /// every other cache saves the eight bytes an entry.
    hards: Vec<u64>,
    order: Order,
    pub(super) capacity: usize,
    /// Where the expiry sweep looks next.
    cursor: usize,
    flights: HashTable<Arc<Flight<K, V>>>,
    /// A finished flight no one else holds, for the next miss to reuse (keys without drop
    /// glue only: reusing one drops the old key, under the lock).
    spare: Option<Arc<Flight<K, V>>>,
    tags: Option<Box<TagIndex>>,
    pub(super) epoch: u64,
    pub(super) stats: CacheStats,
    /// Where removals void the threads' copies and moves are published, with copies.
    copies: Option<ShardCopies>,
}

impl<K, V> Shard<K, V> {
    pub(super) fn new(capacity: usize, window: u32, copies: Option<ShardCopies>) -> Self {
        Shard {
            index: HashTable::new(),
            nodes: Vec::new(),
            hards: Vec::new(),
            order: Order::new(window),
            capacity: capacity.min(MAX_SLOTS),
            cursor: 0,
            flights: HashTable::new(),
            spare: None,
            tags: None,
            epoch: 0,
            stats: CacheStats::default(),
            copies,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Takes the flights that `which` picks out of the table and cancels them; they are
    /// returned to be dropped once the lock is released.
    pub(super) fn detach_flights(
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

    /// Takes a finished (or doomed) run's flight out of the table, if it is still there.
    pub(super) fn forget_flight(&mut self, flight: &Arc<Flight<K, V>>) {
        if let Ok(e) = self
            .flights
            .find_entry(flight.hash, |f| Arc::ptr_eq(f, flight))
        {
            e.remove();
        }
    }

    /// Keeps a finished flight that no one else holds for the next miss (see `spare`).
    pub(super) fn keep_spare(&mut self, flight: &mut Option<Arc<Flight<K, V>>>) {
        if !std::mem::needs_drop::<K>() && self.spare.is_none() {
            self.spare = flight.take();
        }
    }

    /// Empties the shard (a `clear`): every entry goes, every run in progress is detached.
    /// What was taken out is returned, to be dropped once the lock is released.
    pub(super) fn clear(&mut self) -> Cleared<K, V> {
        self.stats.invalidations += self.nodes.len() as u64;
        self.epoch += 1;
        let detached = self.detach_flights(|_| true);
        if let Some(c) = &self.copies {
            c.bump_all();
        }
        self.index = HashTable::new();
        self.tags = None;
        self.order.clear();
        self.cursor = 0;
        self.hards = Vec::new();
        Cleared {
            _nodes: std::mem::take(&mut self.nodes),
            _flights: detached,
        }
    }

    /// Takes out the slots labelled `tag`, highest first.
    pub(super) fn tagged(&mut self, tag: &str) -> Vec<u32> {
        self.tags.as_mut().map(|t| t.take(tag)).unwrap_or_default()
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Shard<K, V> {
    #[inline]
    pub(super) fn find<L: KeyRef<Owned = K>>(&self, hash: u64, key: &L) -> Option<u32> {
        let nodes = &self.nodes;
        self.index
            .find(hash, |&i| key.matches(&nodes[i as usize].key))
            .copied()
    }

    pub(super) fn find_flight<L: KeyRef<Owned = K>>(
        &self,
        hash: u64,
        key: &L,
    ) -> Option<&Arc<Flight<K, V>>> {
        self.flights.find(hash, |f| key.matches(&f.key))
    }

    /// Registers a run of the body for `key`, with a flight when `share`.
    pub(super) fn start_run<L: KeyRef<Owned = K>>(
        &mut self,
        hash: u64,
        key: &L,
        share: bool,
    ) -> Run<K, V> {
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
        Run {
            epoch: self.epoch,
            flight,
            doomed: false,
            refresh: false,
        }
    }

    /// Takes the flight of `key` out of the table and cancels it (see [`crate::flight`]).
    pub(super) fn detach_flight<L: KeyRef<Owned = K>>(
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

    /// What entry `i`'s age makes it at `now`.
    #[inline]
    pub(super) fn age(&self, i: u32, now: u64, expiry: &Expiry) -> Age {
        expiry.age(
            self.nodes[i as usize].deadline,
            || self.hard(i, expiry),
            now,
        )
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

    /// Whether entry `i` is in the front quarter of the LRU order (see [`super::order`]).
    #[inline]
    pub(super) fn recently_moved(&self, i: u32) -> bool {
        self.order.recently_moved(i)
    }

    /// Reads a live entry: refreshes its idle deadline and moves it to the front.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) fn hit(&mut self, i: u32, now: u64, s: &Settings) -> V {
        // Cloned before anything changes: a panicking `Clone` leaves the shard as it was.
        let value = self.nodes[i as usize].value.clone();
        if s.expiry.tti != u64::MAX && now < self.nodes[i as usize].deadline {
            let hard = self.hard(i, &s.expiry);
            self.nodes[i as usize].deadline = s.expiry.touched(now, hard);
        }
        if s.promote && self.order.moves_on_hit(i) {
            self.move_to_front(i);
        }
        value
    }

    /// The LRU move of a hit, out of line: most hits in a busy sharded cache skip it.
    #[inline(never)]
    fn move_to_front(&mut self, i: u32) {
        let tick = self.order.move_to_front(&mut self.nodes, i);
        self.publish(tick);
    }

    /// Publishes the shard's tick to the threads' copies.
    #[inline]
    fn publish(&self, tick: Option<u32>) {
        if let (Some(tick), Some(c)) = (tick, &self.copies) {
            c.set_tick(tick);
        }
    }

    /// What a thread's copy of entry `i` records.
    pub(super) fn marks(&self, i: u32, hash: u64, copies: &Copies) -> CopyMarks {
        copies.marks(hash, self.nodes[i as usize].deadline, self.order.stamp(i))
    }

    /// Stores an entry: it replaces the key's old one, and evicts the least recently used
    /// entry when the shard is full. What goes out goes to `dead`.
    pub(super) fn insert(
        &mut self,
        new: NewEntry<K, V>,
        now: u64,
        s: &Settings,
        dead: &mut Graveyard<K, V>,
    ) {
        let nodes = &self.nodes;
        if let Some(&i) = self
            .index
            .find(new.hash, |&j| nodes[j as usize].key == new.key)
        {
            dead.push(self.remove(i, &s.hasher));
        }
        if self.nodes.len() >= MAX_SLOTS || self.capacity == 0 {
            return;
        }
        let (hard, deadline) = s.expiry.deadlines(now, new.until);
        let node = Node {
            key: new.key,
            value: new.value,
            links: Links::NONE,
            deadline,
        };
        if self.nodes.len() >= self.capacity
            && let Some(i) = self.order.tail()
        {
            // Full: the least recently used entry goes, and its slot takes the new one, so
            // no other entry moves in the slab (nor is rehashed to be found again).
            self.detach(i, &s.hasher);
            dead.push(std::mem::replace(&mut self.nodes[i as usize], node));
            self.stats.evictions += 1;
            if s.expiry.keeps_hard() {
                self.hards[i as usize] = hard;
            }
            self.link_new(i, new.hash, new.tags, &s.hasher);
        } else {
            self.push_new(node, hard, &s.expiry);
            #[allow(clippy::cast_possible_truncation)] // below MAX_SLOTS
            let i = (self.nodes.len() - 1) as u32;
            self.link_new(i, new.hash, new.tags, &s.hasher);
            while self.nodes.len() > self.capacity
                && let Some(last) = self.order.tail()
            {
                dead.push(self.remove(last, &s.hasher));
                self.stats.evictions += 1;
            }
        }
        if s.expiry.any() {
            self.sweep(now, s, dead);
        }
    }

    /// Adds an entry at the end of the slab (growing it if need be).
    fn push_new(&mut self, node: Node<K, V>, hard: u64, expiry: &Expiry) {
        let len = self.nodes.len();
        if len == self.nodes.capacity() {
            // Grow by half, never past the shard's capacity: a full shard has no slack.
            let more = (len / 2)
                .max(8)
                .min(self.capacity.saturating_sub(len).max(1));
            self.nodes.reserve_exact(more);
            if expiry.keeps_hard() {
                self.hards.reserve_exact(more);
            }
            self.order.reserve(more);
        }
        self.nodes.push(node);
        if expiry.keeps_hard() {
            self.hards.push(hard);
        }
        self.order.push_slot();
    }

    /// Puts the new entry in slot `i` at the front of the LRU order, in the index and under
    /// its tags.
    fn link_new(&mut self, i: u32, hash: u64, tags: Option<Vec<String>>, hasher: &Hasher) {
        let tick = self.order.push_front(&mut self.nodes, i);
        self.publish(tick);
        let nodes = &self.nodes;
        self.index
            .insert_unique(hash, i, |&j| hasher.hash_one(&nodes[j as usize].key));
        if let Some(tags) = tags {
            self.tags.get_or_insert_default().add(i, tags);
        }
    }

    /// Looks at the next few entries and removes the expired ones, so that entries nobody
    /// reads again do not stay (amortised over stores, whatever the keys).
    fn sweep(&mut self, now: u64, s: &Settings, dead: &mut Graveyard<K, V>) {
        for _ in 0..SWEEP_STEP {
            if self.nodes.is_empty() {
                return;
            }
            if self.cursor >= self.nodes.len() {
                self.cursor = 0;
            }
            #[allow(clippy::cast_possible_truncation)] // below MAX_SLOTS
            let i = self.cursor as u32;
            if let Age::Expired = self.age(i, now, &s.expiry) {
                // The last entry moves into `i`: the cursor stays to look at it next.
                dead.push(self.remove(i, &s.hasher));
                self.stats.expirations += 1;
            } else {
                self.cursor += 1;
            }
        }
    }

    /// Takes entry `i` out of the LRU order, the index and the tags (voiding the threads'
    /// copies); its slot stays, for the caller to fill or remove.
    fn detach(&mut self, i: u32, hasher: &Hasher) {
        self.order.unlink(&mut self.nodes, i);
        let h = hasher.hash_one(&self.nodes[i as usize].key);
        if let Ok(e) = self.index.find_entry(h, |&j| j == i) {
            e.remove();
        }
        if let Some(c) = &self.copies {
            c.bump(h);
        }
        if let Some(t) = &mut self.tags {
            t.remove_slot(i);
        }
    }

    /// Takes entry `i` out; the last entry moves into its slot.
    pub(super) fn remove(&mut self, i: u32, hasher: &Hasher) -> Node<K, V> {
        self.detach(i, hasher);
        #[allow(clippy::cast_possible_truncation)] // below MAX_SLOTS
        let last = (self.nodes.len() - 1) as u32;
        let node = self.nodes.swap_remove(i as usize);
        if !self.hards.is_empty() {
            self.hards.swap_remove(i as usize);
        }
        self.order.remove_slot(i);
        if i != last {
            self.order.moved(&mut self.nodes, i);
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
            self.order.shrink_to(len * 2);
            let nodes = &self.nodes;
            self.index
                .shrink_to(len, |&j| hasher.hash_one(&nodes[j as usize].key));
        }
    }
}

#[cfg(test)]
impl<K: Hash + Eq + Clone, V: Clone> Shard<K, V> {
    /// How many entries the slab has room for.
    pub(super) fn slab_capacity(&self) -> usize {
        self.nodes.capacity()
    }

    /// Checks every link between the slab, the LRU order, the index and the tag index.
    pub(super) fn check(&self, hasher: &Hasher) {
        let n = self.nodes.len();
        assert_eq!(self.index.len(), n, "index size");
        assert!(
            self.hards.is_empty() || self.hards.len() == n,
            "ttl deadlines beside nodes"
        );
        for (i, node) in self.nodes.iter().enumerate() {
            let h = hasher.hash_one(&node.key);
            let found = self
                .index
                .find(h, |&j| self.nodes[j as usize].key == node.key);
            assert_eq!(found.copied(), Some(i as u32), "index of slot {i}");
        }
        assert_eq!(self.order.walk(&self.nodes).len(), n, "list length");
        if let Some(t) = &self.tags {
            t.check(n);
        }
    }
}
