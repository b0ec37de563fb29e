//! One shard of a store: a dense slab of entries with a hashbrown index, its eviction order,
//! the list of its flights (see [`super::flights`]), its tags and its counters, all behind
//! the shard's one lock.
//!
//! Entries live in a dense `Vec`: a removal moves the last entry into the hole, so memory
//! follows the live entries and the slab can shrink. Counters live here, under the lock the
//! operation holds anyway, so a hit pays no extra atomic. Where threads keep copies (see
//! [`crate::copies`]), every removal bumps its entry's version stripe and every move to the
//! front publishes the shard's tick, under the lock.

use super::entry::{Graveyard, NewEntry, Node};
use super::expiry::{Age, Expiry};
use super::flights::Flights;
use super::order::{OnHit, Order, Pick};
use super::shards::{Hasher, Room, shard_max};
use crate::config::Eviction;
use crate::copies::{Copies, CopyMarks, ShardCopies};
use crate::flight::Flight;
use crate::key::KeyRef;
use crate::stats::CacheStats;
use crate::tags::TagIndex;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// The most entries a shard's slab can index.
const MAX_SLOTS: usize = (u32::MAX - 1) as usize;
/// Expired entries looked at per store, to purge those nobody reads again.
const SWEEP_STEP: usize = 2;

/// What every shard of a store shares, and passes to its operations.
pub(super) struct Settings {
    pub(super) hasher: Hasher,
    pub(super) expiry: Expiry,
    /// Whether a hit counts in the eviction order (and may move its entry): not in an
    /// unbounded cache, which evicts nothing.
    pub(super) promote: bool,
    /// The store's capacity, which its shards share.
    pub(super) room: Room,
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
    /// The shard's share of the store's capacity.
    pub(super) capacity: usize,
    /// The most entries it holds when the store has room (see [`super::shards`]).
    max: usize,
    /// Where the expiry sweep looks next.
    cursor: usize,
    pub(super) flights: Flights<K, V>,
    /// A finished flight no one else holds, for the next miss to reuse (keys without drop
    /// glue only: reusing one drops the old key, under the lock).
    pub(super) spare: Option<Arc<Flight<K, V>>>,
    tags: Option<Box<TagIndex>>,
    pub(super) epoch: u64,
    pub(super) stats: CacheStats,
    /// Where removals void the threads' copies and moves are published, with copies.
    copies: Option<ShardCopies>,
}

impl<K, V> Shard<K, V> {
    /// A shard of `capacity` entries, with this eviction policy; `sharded`: the store has
    /// more than one shard.
    pub(super) fn new(
        capacity: usize,
        eviction: Eviction,
        sharded: bool,
        copies: Option<ShardCopies>,
    ) -> Self {
        Shard {
            index: HashTable::new(),
            nodes: Vec::new(),
            hards: Vec::new(),
            order: Order::new(eviction, capacity, sharded),
            capacity: capacity.min(MAX_SLOTS),
            max: shard_max(capacity).min(MAX_SLOTS),
            cursor: 0,
            flights: Flights::new(),
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

    /// Empties the shard (a `clear`): every entry goes, every run in progress is detached.
    /// What was taken out is returned, to be dropped once the lock is released.
    pub(super) fn clear(&mut self, room: &Room) -> Cleared<K, V> {
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
        let nodes = std::mem::take(&mut self.nodes);
        room.give(nodes.len());
        Cleared {
            _nodes: nodes,
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

    /// Whether a hit on entry `i` now leaves it in the front quarter of the order (see
    /// [`super::order`]), where the threads' copies may serve its next hits.
    #[inline]
    pub(super) fn copyable(&self, i: u32) -> bool {
        self.order.copyable(i)
    }

    /// Reads a live entry (key `hash`): refreshes its idle deadline and, unless the entry is
    /// in the front quarter of the order (see [`super::order`]), counts the access and moves
    /// the entry as the order says.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) fn hit(&mut self, i: u32, hash: u64, now: u64, s: &Settings) -> V {
        // Cloned before anything changes: a panicking `Clone` leaves the shard as it was.
        let value = self.nodes[i as usize].value.clone();
        if s.expiry.tti != u64::MAX && now < self.nodes[i as usize].deadline {
            let hard = self.hard(i, &s.expiry);
            self.nodes[i as usize].deadline = s.expiry.touched(now, hard);
        }
        if s.promote {
            match self.order.on_hit(i) {
                OnHit::Nothing => {}
                OnHit::Count => self.order.count(hash),
                OnHit::Move => self.hit_move(i, hash),
            }
        }
        value
    }

    /// The count and move of a hit, out of line: most hits in a busy sharded cache skip
    /// them.
    #[inline(never)]
    fn hit_move(&mut self, i: u32, hash: u64) {
        self.order.count(hash);
        let tick = self.order.hit_move(i);
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

    /// Stores an entry: it replaces the key's old one, and, when the store has no room left
    /// (or the shard holds its most), evicts the entry the order picks, whose slot it takes
    /// (which may be the new entry's way in: W-TinyLFU may refuse the window's oldest
    /// entry). What goes out goes to `dead`.
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
            dead.push(self.remove(i, s));
        }
        if self.nodes.len() >= MAX_SLOTS || self.capacity == 0 {
            return;
        }
        let room = self.nodes.len() < self.max && s.room.take();
        let (hard, deadline) = s.expiry.deadlines(now, new.until);
        let node = Node {
            key: new.key,
            value: new.value,
            deadline,
        };
        if room {
            self.push_new(node, hard, &s.expiry);
            #[allow(clippy::cast_possible_truncation)] // below MAX_SLOTS
            let i = (self.nodes.len() - 1) as u32;
            self.link_new(i, new.hash, new.tags, &s.hasher);
        } else {
            let hasher = &s.hasher;
            let hash_of = |i: u32| hasher.hash_one(&self.nodes[i as usize].key);
            let (i, h) = match self.order.pick() {
                // The shard holds nothing, and the other shards all the store's capacity.
                Pick::Empty => return,
                Pick::Take(i) => {
                    self.order.unlink(i);
                    (i, hash_of(i))
                }
                Pick::Contest { candidate, victim } => {
                    let (c, v) = (hash_of(candidate), hash_of(victim));
                    self.order.admit(candidate, victim, c, v)
                }
            };
            // Its slot takes the new entry, so no other entry moves in the slab (nor is
            // rehashed to be found again).
            self.forget(i, h);
            dead.push(std::mem::replace(&mut self.nodes[i as usize], node));
            self.stats.evictions += 1;
            if s.expiry.keeps_hard() {
                self.hards[i as usize] = hard;
            }
            self.link_new(i, new.hash, new.tags, &s.hasher);
        }
        if s.expiry.any() {
            self.sweep(now, s, dead);
        }
    }

    /// Adds an entry at the end of the slab (growing it if need be).
    fn push_new(&mut self, node: Node<K, V>, hard: u64, expiry: &Expiry) {
        let len = self.nodes.len();
        if len == self.nodes.capacity() {
            // Grow by half, never past the shard's share: a full shard has no slack. Past
            // its share (the store has room), by small steps.
            let (step, to) = if len < self.capacity {
                ((len / 2).max(8), self.capacity)
            } else {
                ((self.capacity / 32).max(8), self.max)
            };
            let more = step.min(to.saturating_sub(len).max(1));
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

    /// Puts the new entry in slot `i` in the eviction order, the index and under its tags.
    fn link_new(&mut self, i: u32, hash: u64, tags: Option<Vec<String>>, hasher: &Hasher) {
        let tick = self.order.push_new(i, hash);
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
                dead.push(self.remove(i, s));
                self.stats.expirations += 1;
            } else {
                self.cursor += 1;
            }
        }
    }

    /// Takes entry `i` out of the eviction order, the index and the tags (voiding the
    /// threads' copies); its slot stays, for the caller to fill or remove.
    fn detach(&mut self, i: u32, hasher: &Hasher) {
        self.order.unlink(i);
        self.forget(i, hasher.hash_one(&self.nodes[i as usize].key));
    }

    /// [`Shard::detach`] of an entry already out of the eviction order, whose key hashes to
    /// `h`.
    fn forget(&mut self, i: u32, h: u64) {
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

    /// Takes entry `i` out (giving its place in the store back); the last entry moves into
    /// its slot.
    pub(super) fn remove(&mut self, i: u32, s: &Settings) -> Node<K, V> {
        let hasher = &s.hasher;
        self.detach(i, hasher);
        #[allow(clippy::cast_possible_truncation)] // below MAX_SLOTS
        let last = (self.nodes.len() - 1) as u32;
        let node = self.nodes.swap_remove(i as usize);
        if !self.hards.is_empty() {
            self.hards.swap_remove(i as usize);
        }
        self.order.remove_slot(i);
        if i != last {
            let h = hasher.hash_one(&self.nodes[i as usize].key);
            if let Some(slot) = self.index.find_mut(h, |&j| j == last) {
                *slot = i;
            }
            if let Some(t) = &mut self.tags {
                t.move_slot(last, i);
            }
        }
        s.room.give(1);
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
        assert_eq!(self.order.walk().len(), n, "list length");
        assert!(n <= self.max, "at most {} entries in a shard", self.max);
        if let Some(t) = &self.tags {
            t.check(n);
        }
    }
}
