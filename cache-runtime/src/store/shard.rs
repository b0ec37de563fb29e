//! One shard of a store, the part typed by its keys and values: a dense slab of entries,
//! slot for slot beside the shard's [`super::slots`] (the index, deadlines, eviction
//! order and tags, not generic), the list of its flights (see [`super::flights`]) and its
//! counters, all behind the shard's one lock.
//!
//! Entries live in a dense `Vec`: a removal moves the last entry into the hole, so memory
//! follows the live entries and the slab can shrink. Counters live here, under the lock the
//! operation holds anyway, so a hit pays no extra atomic. Where threads keep copies (see
//! [`crate::copies`]), every removal bumps its entry's version stripe and every move to the
//! front publishes the shard's tick, under the lock. This file holds only what needs the key
//! and value types: compiled once per pair of them in the user's crate, it is kept small.

use super::entry::{Graveyard, NewEntry, Node};
use super::expiry::{Age, Expiry};
use super::flights::Flights;
use super::shards::{Hasher, Room};
use super::slots::{Place, Slots};
use crate::copies::{Copies, CopyMarks};
use crate::flight::Flight;
use crate::key::KeyRef;
use crate::stats::CacheStats;
use std::hash::Hash;
use std::sync::Arc;

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
    /// Everything kept of the entries but their keys and values, slot for slot beside
    /// `nodes` (not generic: see [`super::slots`]).
    slots: Slots,
    nodes: Vec<Node<K, V>>,
    pub(super) flights: Flights<K, V>,
    /// A finished flight no one else holds, for the next miss to reuse (keys without drop
    /// glue only: reusing one drops the old key, under the lock).
    pub(super) spare: Option<Arc<Flight<K, V>>>,
    pub(super) epoch: u64,
    pub(super) stats: CacheStats,
}

impl<K, V> Shard<K, V> {
    /// A shard of these slots, empty.
    pub(super) fn new(slots: Slots) -> Self {
        Shard {
            slots,
            nodes: Vec::new(),
            flights: Flights::new(),
            spare: None,
            epoch: 0,
            stats: CacheStats::default(),
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
        let detached = self.detach_flights(&|_| true);
        self.slots.clear(room);
        Cleared {
            _nodes: std::mem::take(&mut self.nodes),
            _flights: detached,
        }
    }

    /// Takes out the slots labelled `tag`, highest first.
    pub(super) fn tagged(&mut self, tag: &str) -> Vec<u32> {
        self.slots.tagged(tag)
    }

    /// What entry `i`'s age makes it at `now`.
    #[inline]
    pub(super) fn age(&self, i: u32, now: u64, expiry: &Expiry) -> Age {
        self.slots.age(i, now, expiry)
    }

    /// What a thread's copy of entry `i` records.
    pub(super) fn marks(&self, i: u32, hash: u64, copies: &Copies) -> CopyMarks {
        self.slots.marks(i, hash, copies)
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Shard<K, V> {
    /// Takes entry `i` out (giving its place in the store back); the last entry moves into
    /// its slot.
    pub(super) fn remove(&mut self, i: u32, s: &Settings) -> Node<K, V> {
        let node = self.nodes.swap_remove(i as usize);
        if let Some(len) = self.slots.remove(i, &s.room) {
            self.nodes.shrink_to(len);
        }
        node
    }

    #[inline]
    pub(super) fn find<L: KeyRef<Owned = K>>(&self, hash: u64, key: &L) -> Option<u32> {
        let nodes = &self.nodes;
        self.slots
            .find(hash, |&i| key.matches(&nodes[i as usize].key))
    }

    /// [`Shard::find`] through a `dyn Fn` that matches the key: for the rarer calls (an
    /// invalidation), one function for each key and value type.
    pub(super) fn find_by(&self, hash: u64, key: &dyn Fn(&K) -> bool) -> Option<u32> {
        let nodes = &self.nodes;
        self.slots.find(hash, |&i| key(&nodes[i as usize].key))
    }

    /// Reads a live entry (key `hash`): refreshes its idle deadline and, unless the entry is
    /// in the front quarter of the order (see [`super::order`]), moves the entry as the order
    /// says.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) fn hit(&mut self, i: u32, hash: u64, now: u64, s: &Settings) -> V {
        self.hit_hot(i, hash, now, s).0
    }

    /// [`Shard::hit`], and whether the entry is in the front quarter of the order after it,
    /// where the threads' copies may serve its next hits (see [`Slots::hit`]).
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) fn hit_hot(&mut self, i: u32, hash: u64, now: u64, s: &Settings) -> (V, bool) {
        // Cloned before anything changes: a panicking `Clone` leaves the shard as it was.
        let value = self.nodes[i as usize].value.clone();
        let hot = self.slots.hit(i, hash, now, s);
        (value, hot)
    }

    /// Stores an entry: it replaces the key's old one, and takes the slot the shard's slots
    /// give it (see [`Slots::place`]), which may be an evicted entry's. What goes out goes to
    /// `dead`.
    pub(super) fn insert(
        &mut self,
        new: NewEntry<K, V>,
        now: u64,
        s: &Settings,
        dead: &mut Graveyard<K, V>,
    ) {
        let nodes = &self.nodes;
        if let Some(i) = self
            .slots
            .find(new.hash, |&j| nodes[j as usize].key == new.key)
        {
            dead.push(self.remove(i, s));
        }
        let node = Node {
            key: new.key,
            value: new.value,
        };
        match self.slots.place(new.hash, now, new.until, new.tags, s) {
            Place::Nowhere => return,
            Place::End { more } => {
                if self.nodes.len() == self.nodes.capacity() {
                    self.nodes.reserve_exact(more);
                }
                self.nodes.push(node);
            }
            Place::Evicted(i) => {
                dead.push(std::mem::replace(&mut self.nodes[i as usize], node));
                self.stats.evictions += 1;
            }
        }
        if s.expiry.any() {
            self.sweep(now, s, dead);
        }
    }

    /// Looks at the next few entries and removes the expired ones, so that entries nobody
    /// reads again do not stay (amortised over stores, whatever the keys).
    fn sweep(&mut self, now: u64, s: &Settings, dead: &mut Graveyard<K, V>) {
        for _ in 0..SWEEP_STEP {
            if let Some(i) = self.slots.swept(now, &s.expiry) {
                dead.push(self.remove(i, s));
                self.stats.expirations += 1;
            }
        }
    }
}

#[cfg(test)]
impl<K: Hash + Eq + Clone, V: Clone> Shard<K, V> {
    /// The shard's share of the store's capacity.
    pub(super) fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// How many entries the slab has room for.
    pub(super) fn slab_capacity(&self) -> usize {
        self.nodes.capacity()
    }

    /// Checks every link between the slab, the slots, the order, the index and the tag
    /// index.
    pub(super) fn check(&self, s: &Settings) {
        let hashes: Vec<u64> = self
            .nodes
            .iter()
            .map(|n| std::hash::BuildHasher::hash_one(&s.hasher, &n.key))
            .collect();
        self.slots.check(&hashes, &s.expiry);
        for (i, node) in self.nodes.iter().enumerate() {
            let found = self
                .slots
                .find(hashes[i], |&j| self.nodes[j as usize].key == node.key);
            assert_eq!(found, Some(i as u32), "index of slot {i}");
        }
        assert!(
            self.slots.room() >= self.nodes.len(),
            "the slots' arrays as long as the slab"
        );
    }
}
