//! A shard's slots: everything it keeps of its entries but their keys and values (the
//! deadlines, the place in the eviction order, the tags), the index from hashes to slots, and
//! the bookkeeping of every insert, eviction and removal.
//!
//! Not generic: compiled once, in this crate, where the typed part of a shard (see
//! [`super::shard`]) is compiled once per key and value type in the user's crate. The
//! entries sit in that shard's slab, slot for slot beside these arrays: whatever moves here
//! (a removal moves the last slot into the hole), the shard moves there.
//!
//! Each slot keeps 32 bits of its key's hash ([`pack`]): the bits the index probes by (its
//! low bits pick a bucket, its top seven are hashbrown's control byte) and that the sketch
//! and the copies' stripes read. Where the slots need the hash of a key they hold (an
//! eviction's two candidates, a removal and the entry that moves into its slot, the index's
//! growth), they read it here: four bytes an entry, where hashing the key again from the
//! shard's slab took a `dyn` call and a read of a cold entry's key each time (callgrind, a
//! miss of a `u64 -> u64` function: 1 474 -> 1 455 instructions, see BENCHMARKS.md).
//!
//! The deadlines are kept only in a store whose entries expire: an entry of a store without
//! expiry is its key and value, its place in the order and in the index.

use super::expiry::{Age, Expiry};
use super::order::{OnHit, Order, Pick};
use super::shard::Settings;
use super::shards::{Room, shard_max};
use crate::config::Eviction;
use crate::copies::{Copies, CopyMarks, ShardCopies};
use crate::tags::TagIndex;
use hashbrown::HashTable;

/// The most entries a shard's slab can index.
const MAX_SLOTS: usize = (u32::MAX - 1) as usize;

/// The bits of a key's hash that a slot keeps (see [`pack`]): the low 25, which pick the
/// index's bucket in any shard of up to 2^25 buckets, and the top 7, hashbrown's control byte.
const KEPT: u64 = 0xFE00_0000_01FF_FFFF;

// A removal bumps the copies' stripe of its kept hash, a copy records the stripe of the full
// one (bits 8 up, see `Copies::stripe`): the stripe's bits must be kept bits.
const _: () = assert!(((crate::copies::MAX_STRIPES as u64 - 1) << 8) & !KEPT == 0);

/// The hash that the index, the sketch and the copies' stripes are given for a key whose
/// hash is `hash`: its [`KEPT`] bits, all that a slot keeps of it.
#[inline]
pub(super) fn kept(hash: u64) -> u64 {
    hash & KEPT
}

/// A key's hash as its slot keeps it, in 32 bits: the low 25 bits and, above them, the top 7.
#[inline]
fn pack(hash: u64) -> u32 {
    #[allow(clippy::cast_possible_truncation)] // 25 bits and 7
    let packed = (hash & 0x01FF_FFFF) as u32 | ((hash >> 57) as u32) << 25;
    packed
}

/// The [`kept`] hash of a slot's [`pack`]ed one.
#[inline]
fn unpack(packed: u32) -> u64 {
    u64::from(packed & 0x01FF_FFFF) | u64::from(packed >> 25) << 57
}

/// Where a new entry goes (see [`Slots::place`]).
pub(super) enum Place {
    /// Nowhere: the shard takes no entry (capacity 0, or the store's capacity is all taken
    /// by other shards and this one holds nothing).
    Nowhere,
    /// At the end of the slab, which grows by `more` if it is full.
    End { more: usize },
    /// Into this slot, whose entry was evicted.
    Evicted(u32),
}

pub(super) struct Slots {
    /// From a key's [`kept`] hash to its slot.
    index: HashTable<u32>,
    /// Each entry's hash, [`pack`]ed.
    hashes: Vec<u32>,
    /// How many slots are taken.
    len: usize,
    /// How many slots the arrays (and the shard's slab) have room for.
    room: usize,
    /// When each entry stops being fresh: `min(hard, last use + tti)`, where `hard` is when
    /// its `ttl` runs out (see [`Slots::hard`]). Empty in a store without expiry, whose
    /// entries are always fresh (and which never reads the clock).
    deadlines: Vec<u64>,
    /// The `ttl` deadline of each entry, when [`Expiry::keeps_hard`]: every other cache
    /// saves the eight bytes an entry.
    hards: Vec<u64>,
    order: Order,
    /// The shard's share of the store's capacity.
    capacity: usize,
    /// The most entries it holds when the store has room (see [`super::shards`]).
    max: usize,
    /// Where the expiry sweep looks next.
    cursor: usize,
    tags: Option<Box<TagIndex>>,
    /// Where removals void the threads' copies and moves are published, with copies.
    copies: Option<ShardCopies>,
}

impl Slots {
    /// The slots of a shard of `capacity` entries, with this eviction policy; `sharded`: the
    /// store has more than one shard.
    pub(super) fn new(
        capacity: usize,
        eviction: Eviction,
        sharded: bool,
        copies: Option<ShardCopies>,
    ) -> Self {
        Slots {
            index: HashTable::new(),
            hashes: Vec::new(),
            len: 0,
            room: 0,
            deadlines: Vec::new(),
            hards: Vec::new(),
            order: Order::new(eviction, capacity, sharded),
            capacity: capacity.min(MAX_SLOTS),
            max: shard_max(capacity).min(MAX_SLOTS),
            cursor: 0,
            tags: None,
            copies,
        }
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The slot of the key that hashes to `hash` and that `is` says is the one (given each
    /// slot whose kept hash matches), if there is one.
    #[inline]
    pub(super) fn find(&self, hash: u64, is: impl FnMut(&u32) -> bool) -> Option<u32> {
        // A debug build compiles the probe once, here, not once for each caller's test in
        // the user's crate: optimised builds inline the test into the probe instead.
        #[cfg(debug_assertions)]
        return self.find_dyn(hash, &mut { is });
        #[cfg(not(debug_assertions))]
        return self.index.find(kept(hash), is).copied();
    }

    /// [`Slots::find`] through a `dyn FnMut`: what a debug build calls.
    #[cfg(debug_assertions)]
    #[inline(never)]
    fn find_dyn(&self, hash: u64, is: &mut dyn FnMut(&u32) -> bool) -> Option<u32> {
        self.index.find(kept(hash), is).copied()
    }

    /// What entry `i`'s age makes it at `now`.
    #[inline]
    pub(super) fn age(&self, i: u32, now: u64, expiry: &Expiry) -> Age {
        if !expiry.any() {
            // No deadlines kept: entries are always fresh.
            return Age::Fresh;
        }
        expiry.age(self.deadlines[i as usize], || self.hard(i, expiry), now)
    }

    /// When entry `i`'s `ttl` runs out (`u64::MAX`: never).
    #[inline]
    fn hard(&self, i: u32, expiry: &Expiry) -> u64 {
        if expiry.keeps_hard() {
            self.hards[i as usize]
        } else if expiry.tti == u64::MAX {
            self.deadlines[i as usize]
        } else {
            u64::MAX
        }
    }

    /// A hit on live entry `i` (key `hash`): refreshes its idle deadline and, unless the
    /// entry is in the front quarter of the order, moves the entry as the order says (and
    /// counts the access where it says so: see [`Order::on_hit`]). Returns whether the hit
    /// leaves the entry in the front quarter of the order (see [`super::order`]), where the
    /// threads' copies may serve its next hits: it was there already, or the hit promoted
    /// it there (always, in a store that does not move its entries).
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) fn hit(&mut self, i: u32, hash: u64, now: u64, s: &Settings) -> bool {
        if s.expiry.tti != u64::MAX && now < self.deadlines[i as usize] {
            let hard = self.hard(i, &s.expiry);
            self.deadlines[i as usize] = s.expiry.touched(now, hard);
        }
        if !s.promote {
            return true;
        }
        // One read of the entry's place in the order decides both.
        match self.order.on_hit(i) {
            OnHit::Nothing => self.order.sharded(),
            OnHit::Move => {
                self.hit_move(i, None);
                false
            }
            OnHit::Promote => {
                self.hit_move(i, Some(kept(hash)));
                self.order.sharded()
            }
        }
    }

    /// The move of a hit (and its count, of the key's [`kept`] `hash`, where the order counts
    /// it), out of line: most hits in a busy sharded cache skip them.
    #[inline(never)]
    fn hit_move(&mut self, i: u32, hash: Option<u64>) {
        if let Some(hash) = hash {
            self.order.count(hash);
        }
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
        let deadline = self.deadlines.get(i as usize).copied().unwrap_or(u64::MAX);
        copies.marks(hash, deadline, self.order.stamp(i))
    }

    /// Makes a slot for a new entry of key `hash` (the key's old entry, if any, already
    /// removed), stored at `now` to live no longer than `until`, and links it into the order,
    /// the index and under its `tags`: when the store has no room left (or the shard holds
    /// its most), the entry the order picks is evicted, and the new one takes its slot (which
    /// may be the new entry's way in: W-TinyLFU may refuse the window's oldest entry). The
    /// shard puts the entry where this says.
    pub(super) fn place(
        &mut self,
        hash: u64,
        now: u64,
        until: u64,
        tags: Option<Vec<String>>,
        s: &Settings,
    ) -> Place {
        if self.len() >= MAX_SLOTS || self.capacity == 0 {
            return Place::Nowhere;
        }
        // Without expiry the store never reads the clock, and an entry is always fresh.
        let (hard, deadline) = s.expiry.deadlines(now, until);
        if self.len() < self.max && s.room.take() {
            let more = self.push_slot(pack(hash), deadline, hard, &s.expiry);
            #[allow(clippy::cast_possible_truncation)] // below MAX_SLOTS
            let i = (self.len() - 1) as u32;
            self.link_new(i, kept(hash), tags);
            return Place::End { more };
        }
        let (i, h) = match self.order.pick() {
            // The shard holds nothing, and the other shards all the store's capacity.
            Pick::Empty => return Place::Nowhere,
            Pick::Take(i) => {
                self.order.unlink(i);
                (i, self.hash(i))
            }
            Pick::Contest { candidate, victim } => {
                let (c, v) = (self.hash(candidate), self.hash(victim));
                self.order.admit(candidate, victim, c, v)
            }
        };
        // Its slot takes the new entry, so no other entry moves in the slab (nor in the
        // index).
        self.forget(i, h);
        self.hashes[i as usize] = pack(hash);
        if s.expiry.any() {
            self.deadlines[i as usize] = deadline;
        }
        if s.expiry.keeps_hard() {
            self.hards[i as usize] = hard;
        }
        self.link_new(i, kept(hash), tags);
        Place::Evicted(i)
    }

    /// The [`kept`] hash of entry `i`'s key.
    #[inline]
    fn hash(&self, i: u32) -> u64 {
        unpack(self.hashes[i as usize])
    }

    /// Adds a slot at the end, of a key whose hash packs to `packed` (growing the arrays if
    /// need be); returns by how many entries the shard's slab grows if it is full.
    fn push_slot(&mut self, packed: u32, deadline: u64, hard: u64, expiry: &Expiry) -> usize {
        let len = self.len;
        // Grow by half, never past the shard's share: a full shard has no slack. Past its
        // share (the store has room), by small steps.
        let (step, to) = if len < self.capacity {
            ((len / 2).max(8), self.capacity)
        } else {
            ((self.capacity / 32).max(8), self.max)
        };
        let more = step.min(to.saturating_sub(len).max(1));
        if len == self.room {
            self.room += more;
            self.hashes.reserve_exact(more);
            if expiry.any() {
                self.deadlines.reserve_exact(more);
            }
            if expiry.keeps_hard() {
                self.hards.reserve_exact(more);
            }
            self.order.reserve(more);
        }
        self.len += 1;
        self.hashes.push(packed);
        if expiry.any() {
            self.deadlines.push(deadline);
        }
        if expiry.keeps_hard() {
            self.hards.push(hard);
        }
        self.order.push_slot();
        more
    }

    /// Puts the new entry in slot `i`, of [`kept`] hash `hash`, in the eviction order, the
    /// index and under its tags.
    #[inline(always)]
    fn link_new(&mut self, i: u32, hash: u64, tags: Option<Vec<String>>) {
        let tick = self.order.push_new(i, hash);
        self.publish(tick);
        let hashes = &self.hashes;
        self.index
            .insert_unique(hash, i, |&j| unpack(hashes[j as usize]));
        if let Some(tags) = tags {
            self.tags.get_or_insert_default().add(i, tags);
        }
    }

    /// The expiry sweep's next step: entry `cursor`, if it has expired (the shard removes
    /// it, and the last entry moves into its slot: the cursor stays to look at it next); else
    /// the cursor moves on.
    pub(super) fn swept(&mut self, now: u64, expiry: &Expiry) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        if self.cursor >= self.len {
            self.cursor = 0;
        }
        #[allow(clippy::cast_possible_truncation)] // below MAX_SLOTS
        let i = self.cursor as u32;
        if let Age::Expired = self.age(i, now, expiry) {
            return Some(i);
        }
        self.cursor += 1;
        None
    }

    /// Takes entry `i` out of the eviction order, the index and the tags (voiding the
    /// threads' copies) and its slot out of the arrays (giving its place in the store back):
    /// the last slot moves into `i`, as the shard's last entry moves in the slab. Returns the
    /// length the shard's slab shrinks to, when most of it is unused.
    pub(super) fn remove(&mut self, i: u32, room: &Room) -> Option<usize> {
        self.order.unlink(i);
        self.forget(i, self.hash(i));
        #[allow(clippy::cast_possible_truncation)] // below MAX_SLOTS
        let last = (self.len - 1) as u32;
        self.len -= 1;
        self.hashes.swap_remove(i as usize);
        if !self.deadlines.is_empty() {
            self.deadlines.swap_remove(i as usize);
        }
        if !self.hards.is_empty() {
            self.hards.swap_remove(i as usize);
        }
        self.order.remove_slot(i);
        if i != last {
            if let Some(slot) = self.index.find_mut(self.hash(i), |&j| j == last) {
                *slot = i;
            }
            if let Some(t) = &mut self.tags {
                t.move_slot(last, i);
            }
        }
        room.give(1);
        self.shrink()
    }

    /// Forgets slot `i`, out of the eviction order already, whose key's [`kept`] hash is
    /// `h`: out of the index, the copies and the tags.
    #[inline(always)]
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

    /// Gives memory back once most of the arrays are unused; returns the length the shard's
    /// slab shrinks to then.
    fn shrink(&mut self) -> Option<usize> {
        let len = self.len;
        if self.room <= 64 || len * 4 >= self.room {
            return None;
        }
        self.room = len * 2;
        self.hashes.shrink_to(len * 2);
        self.deadlines.shrink_to(len * 2);
        self.hards.shrink_to(len * 2);
        self.order.shrink_to(len * 2);
        let hashes = &self.hashes;
        self.index.shrink_to(len, |&j| unpack(hashes[j as usize]));
        Some(len * 2)
    }

    /// Empties the slots (a `clear`); gives their places in the store back.
    pub(super) fn clear(&mut self, room: &Room) {
        if let Some(c) = &self.copies {
            c.bump_all();
        }
        room.give(self.len);
        self.len = 0;
        self.room = 0;
        self.index = HashTable::new();
        self.hashes = Vec::new();
        self.tags = None;
        self.order.clear();
        self.cursor = 0;
        self.deadlines = Vec::new();
        self.hards = Vec::new();
    }

    /// Takes out the slots labelled `tag`, highest first.
    pub(super) fn tagged(&mut self, tag: &str) -> Vec<u32> {
        self.tags.as_mut().map(|t| t.take(tag)).unwrap_or_default()
    }
}

#[cfg(test)]
impl Slots {
    /// The shard's share of the store's capacity.
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many slots the arrays have room for.
    pub(super) fn room(&self) -> usize {
        self.room
    }

    /// Checks every link between the arrays, the order, the index and the tag index, for a
    /// shard whose keys hash to `hashes`, slot by slot.
    pub(super) fn check(&self, hashes: &[u64], expiry: &Expiry) {
        let n = self.len;
        assert_eq!(hashes.len(), n, "a slot for each entry");
        assert!(n <= self.room, "room for every slot");
        assert_eq!(self.index.len(), n, "index size");
        assert_eq!(self.hashes.len(), n, "a hash beside each slot");
        assert_eq!(
            self.deadlines.len(),
            if expiry.any() { n } else { 0 },
            "deadlines beside the slots, where entries expire"
        );
        assert!(
            self.hards.is_empty() || self.hards.len() == n,
            "ttl deadlines beside the slots"
        );
        for (i, &h) in hashes.iter().enumerate() {
            assert_eq!(self.hashes[i], pack(h), "hash of slot {i}");
            assert_eq!(unpack(pack(h)), kept(h), "hash of slot {i}, unpacked");
            assert!(
                self.index.find(kept(h), |&j| j as usize == i).is_some(),
                "index of slot {i}"
            );
        }
        assert_eq!(self.order.walk().len(), n, "list length");
        assert!(n <= self.max, "at most {} entries in a shard", self.max);
        if let Some(t) = &self.tags {
            t.check(n);
        }
    }
}
