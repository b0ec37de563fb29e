//! One thread's copy table for one cache: its copies, how it serves them, and how it grows,
//! shrinks and charges the budget for its memory.
//!
//! **The sizing rule.** A table starts with room for [`FIRST_ROOM`] copies. A copy is only
//! taken of an entry the store just served while the entry was read lately (a repeated hit
//! in the store), so a table holds no more copies than its thread keeps reading, and never
//! more than the cache holds. When a copy finds the table full, the table doubles, up to
//! room for [`MOST_ROOM`] copies, if the budget (see [`super::budget`]) has the bytes;
//! otherwise the out-of-date copies go and, if more than half of the room is still taken,
//! every other copy goes too, so that the table follows a changing set of hot keys and a full
//! table costs each later copy O(1). A table whose copies are mostly out of date when it is
//! full shrinks back towards its first size; a table that keeps missing once it can grow no
//! more is freed (see `TableSlot` in [`super`]).

use super::{Copies, EntryCopy};
use crate::clock;
use crate::key::KeyRef;
use crate::layout::Padded;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64 as Counter, Ordering};
use std::sync::{Arc, PoisonError};

/// The room a new table has (its hash table's 16 buckets, at 7/8 load).
pub(super) const FIRST_ROOM: usize = 14;
/// The room of a table at its largest (2048 buckets).
pub(super) const MOST_ROOM: usize = 1792;

/// One thread's copy table for one cache.
pub(super) struct CopyTable<K: 'static, V: 'static> {
    table: HashTable<EntryCopy<K, V>>,
    /// The table's hits, counted in the cache's stats.
    pub(super) hits: Arc<Padded<Counter>>,
    copies: &'static Copies,
    /// The copies the table holds when full (until it grows or shrinks).
    room: usize,
    /// The bytes charged to the budget for this table.
    charged: usize,
    /// Whether the table has stopped growing: at [`MOST_ROOM`], or the budget said no.
    grown: bool,
}

impl<K: 'static, V: 'static> CopyTable<K, V> {
    /// The bytes of a table with room for `room` copies: its hash table's allocation (at
    /// least; the exact figure is charged once it is made), and its fixed parts.
    fn bytes_for(room: usize) -> usize {
        // hashbrown: a power of two of buckets, 7/8 of them usable; each a `T` and a control
        // byte, plus one group of control bytes, the `T`s' part rounded up to 16.
        let buckets = (room * 8 / 7).next_power_of_two();
        let slots = (buckets * size_of::<EntryCopy<K, V>>()).next_multiple_of(16);
        slots + buckets + 16 + Self::FIXED
    }

    /// What a table takes besides its hash table: itself (boxed), its hit counter (in an
    /// `Arc`) and the counter's place in the store's list.
    const FIXED: usize = size_of::<Self>() + 2 * size_of::<Padded<Counter>>() + 8;

    /// The bytes this table takes now.
    pub(super) fn bytes(&self) -> usize {
        self.table.allocation_size() + Self::FIXED
    }

    /// Charges or gives back the difference between what the table takes and what it was
    /// charged: after anything that may have changed its allocation.
    fn settle(&mut self) {
        let now = self.bytes();
        let budget = self.copies.budget;
        // Most copies change nothing: no write to the budget, which every thread shares.
        if now == self.charged {
            return;
        }
        if now > self.charged {
            // Only after a larger allocation was charged beforehand: nothing to refuse.
            budget.charge(now - self.charged);
        } else {
            budget.give(self.charged - now);
        }
        self.charged = now;
    }

    // Forced in optimised builds only: a debug build compiles faster without it.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) fn get<L: KeyRef<Owned = K>>(&self, key: &L) -> Option<V>
    where
        V: Clone,
    {
        let f = self.copies;
        let hash = f.hasher.hash_one(key);
        let copy = self.table.find(hash, |c| key.matches(&c.key))?;
        let copy_marks = &copy.marks;
        let stripe = copy_marks.stripe as usize;
        let moves = &f.moves[stripe >> f.stripe_bits].0;
        let current = copy_marks.version == f.versions[stripe].load(Ordering::Relaxed)
            && (copy_marks.deadline == u64::MAX || clock::now() < copy_marks.deadline)
            && (moves.window == 0
                || moves
                    .tick
                    .load(Ordering::Relaxed)
                    .wrapping_sub(copy_marks.stamp)
                    < moves.window);
        if !current {
            return None;
        }
        let value = copy.value.clone();
        // Only this thread writes its counter: a load and a store, no locked instruction.
        let hits = &self.hits.0;
        hits.store(hits.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        Some(value)
    }

    /// The hit count of `table`, a `CopyTable<K, V>` (0 if it is not one).
    pub(super) fn hits_of(table: &dyn std::any::Any) -> u64 {
        table
            .downcast_ref::<Self>()
            .map_or(0, |t| t.hits.0.load(Ordering::Relaxed))
    }

    /// Whether the table has stopped growing (see [`CopyTable::grown`]'s field).
    pub(super) fn grown(&self) -> bool {
        self.grown
    }

    /// How many copies the table holds, and how many it has room for.
    #[cfg(test)]
    pub(super) fn sizes(&self) -> (usize, usize) {
        (self.table.len(), self.room)
    }
}

impl<K: Hash + Eq + 'static, V: 'static> CopyTable<K, V> {
    /// A new table of the store's `copies`, if the budget has the bytes for it.
    pub(super) fn new(copies: &'static Copies) -> Option<Self> {
        let first = Self::bytes_for(FIRST_ROOM);
        if !copies.budget.take(first) {
            return None;
        }
        let hits = Arc::new(Padded(Counter::new(0)));
        copies
            .counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&hits));
        let mut table = CopyTable {
            table: HashTable::with_capacity(FIRST_ROOM),
            hits,
            copies,
            room: 0,
            charged: first,
            grown: false,
        };
        table.room = table.table.capacity();
        table.settle();
        Some(table)
    }

    fn hasher(copies: &'static Copies) -> impl Fn(&EntryCopy<K, V>) -> u64 {
        move |c| copies.hasher.hash_one(&c.key)
    }

    pub(super) fn put(&mut self, hash: u64, copy: EntryCopy<K, V>) {
        match self.table.find_mut(hash, |c| c.key == copy.key) {
            Some(old) => *old = copy,
            None => {
                if self.table.len() >= self.room || self.table.capacity() == self.table.len() {
                    self.make_room();
                }
                self.table
                    .insert_unique(hash, copy, Self::hasher(self.copies));
                self.settle();
            }
        }
    }

    /// Room for one more copy: the table doubles if it may, else drops copies.
    fn make_room(&mut self) {
        let copies = self.copies;
        if self.table.len() >= self.room {
            let room = self.room * 2;
            let more = Self::bytes_for(room).saturating_sub(self.charged);
            if room <= MOST_ROOM && copies.budget.take(more) {
                self.charged += more;
                let additional = room - self.table.len();
                self.table.reserve(additional, Self::hasher(copies));
                self.room = room.min(self.table.capacity());
                self.grown = false;
                self.settle();
                return;
            }
            self.grown = true;
        }
        self.table.retain(|c| {
            c.marks.version == copies.versions[c.marks.stripe as usize].load(Ordering::Relaxed)
        });
        if self.table.len() > self.room / 2 {
            // Every other one goes (the first, the third ...): at most half the room stays.
            let mut keep = true;
            self.table.retain(|_| {
                keep = !keep;
                keep
            });
        } else if self.table.len() < self.room / 8 && self.room > FIRST_ROOM {
            // Most copies were out of date: the table shrinks to what still serves.
            let room = (self.table.len() * 2).max(FIRST_ROOM);
            self.table.shrink_to(room, Self::hasher(copies));
            self.room = self.table.capacity();
            self.grown = false;
        }
        // The removals may have left tombstones, which the insert that follows would clear by
        // a rehash in place if at most half the room is taken, else by growing: never that.
        if self.table.capacity() == self.table.len() {
            if self.table.len() < self.room / 2 {
                self.table.reserve(1, Self::hasher(copies));
            } else {
                self.table.clear();
            }
        }
        self.settle();
    }
}

impl<K: 'static, V: 'static> Drop for CopyTable<K, V> {
    fn drop(&mut self) {
        // The table goes (its thread ends, or the table was freed): its hits move to the
        // store's count of gone tables' hits. Both under the lock `hits` reads them under: no
        // hit is counted twice or lost.
        let mut counters = self
            .copies
            .counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.copies
            .retired
            .fetch_add(self.hits.0.load(Ordering::Relaxed), Ordering::Relaxed);
        counters.retain(|c| !Arc::ptr_eq(c, &self.hits));
        drop(counters);
        self.copies.budget.give(self.charged);
    }
}
