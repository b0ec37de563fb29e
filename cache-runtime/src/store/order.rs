//! A shard's eviction order: which entry goes when the shard is full, kept in doubly linked
//! lists through its entries.
//!
//! - **The default, W-TinyLFU** (Einziger, Friedman and Manes, 2017; Caffeine's and moka's
//!   policy), chosen over S3-FIFO by measurement (BENCHMARKS.md, "Eviction policy"). A new
//!   entry enters a small *window* (1 % of the shard, first in first out). When the window
//!   overflows, its oldest entry becomes a *candidate* for the main part, a segmented LRU of
//!   a *probation* list and a *protected* one (80 % of the main part). In a full shard the
//!   candidate is admitted only if the frequency sketch ([`super::sketch`]) says its key was
//!   asked for more often than the key of the *victim*, probation's least recently used
//!   entry; else the candidate goes. A hit in the window or in probation moves the entry to
//!   protected, whose overflow goes back to probation's front. Only the hits outside
//!   protected are counted in the sketch (see [`Order::on_hit`]). So one-time keys (a scan)
//!   pass through the window without pushing out what is read often, and a loop over more
//!   keys than fit keeps the part that fits instead of evicting each key just before it
//!   comes back.
//! - **`eviction = "lru"`**: one list, most recently used at the front; the tail goes.
//!
//! In a sharded cache a hit neither moves nor counts an entry that is still in the *front
//! quarter* of the protected list (of the LRU list): moved to its front fewer than `quarter`
//! moves ago. (Not counting them measured no worse: zipf 0.7930 against 0.7904 counting
//! every hit; and it is what lets the threads' copies serve those hits without changing
//! what the policy decides.)
//! The hot entries of a busy cache are then read without writing other entries' links, and
//! such an entry cannot reach the tail without passing the three other quarters, where its
//! next hit moves it. A single shard (`quarter` 0) keeps the exact order. The lists know
//! nothing else of the entries: each slot's links, segment and stamp are kept here, in one
//! 12-byte [`Slot`] record beside the shard's slab and moved with it (a hit reads one cache
//! line of the order, a move writes its neighbours' records only), so this file is not
//! generic (compiled once, not once per key and value type).

use super::sketch::Sketch;
use crate::config::Eviction;

/// "No entry" in the links.
pub(super) const NIL: u32 = u32::MAX;

/// What the order keeps of an entry: its neighbours in its list, its segment and its stamp.
#[derive(Clone, Copy)]
struct Slot {
    /// Towards the front (most recently used).
    prev: u32,
    /// Towards the tail (least recently used).
    next: u32,
    /// The segment in the top two bits ([`SEG_SHIFT`]), and below them the stamp: the low
    /// 30 bits of the tick at which the entry last moved to the protected front (0 when
    /// `quarter` is 0). The tick's difference to a stamp is taken modulo 2^30, which holds
    /// every `quarter` (below `u32::MAX / 5`: see [`sizes`]).
    mark: u32,
}

impl Slot {
    /// Not in a list yet.
    const NONE: Slot = Slot {
        prev: NIL,
        next: NIL,
        mark: 0,
    };

    #[inline]
    fn seg(self) -> u8 {
        #[allow(clippy::cast_possible_truncation)] // two bits
        let seg = (self.mark >> SEG_SHIFT) as u8;
        seg
    }
}

/// Where a slot's mark keeps its segment; the bits below are the stamp.
const SEG_SHIFT: u32 = 30;
/// A stamp's bits.
const STAMP: u32 = (1 << SEG_SHIFT) - 1;

/// The lists, by the number each slot's segment records.
const WINDOW: u8 = 0;
const PROBATION: u8 = 1;
/// The LRU policy's one list.
const PROTECTED: u8 = 2;

/// One list's ends and length.
#[derive(Clone, Copy)]
struct List {
    front: u32,
    tail: u32,
    len: u32,
}

impl List {
    const EMPTY: List = List {
        front: NIL,
        tail: NIL,
        len: 0,
    };

    #[inline]
    fn tail(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    #[inline]
    fn push_front(&mut self, slots: &mut [Slot], i: u32) {
        let old = self.front;
        let slot = &mut slots[i as usize];
        slot.prev = NIL;
        slot.next = old;
        self.link_prev(slots, old, i);
        self.front = i;
        self.len += 1;
    }

    #[inline]
    fn unlink(&mut self, slots: &mut [Slot], i: u32) {
        let Slot { prev, next, .. } = slots[i as usize];
        self.link_next(slots, prev, next);
        self.link_prev(slots, next, prev);
        self.len -= 1;
    }

    /// Points `at`'s `prev` link to `to`; with `at` NIL, `to` becomes the tail.
    #[inline]
    fn link_prev(&mut self, slots: &mut [Slot], at: u32, to: u32) {
        if at == NIL {
            self.tail = to;
        } else {
            slots[at as usize].prev = to;
        }
    }

    /// Points `at`'s `next` link to `to`; with `at` NIL, `to` becomes the front.
    #[inline]
    fn link_next(&mut self, slots: &mut [Slot], at: u32, to: u32) {
        if at == NIL {
            self.front = to;
        } else {
            slots[at as usize].next = to;
        }
    }
}

/// How a shard of `share` entries is split: the window's and the protected list's most
/// entries, and the front quarter (0: exact order). The quarter is below `u32::MAX / 5`,
/// so below 2^30: the stamps' modulus.
pub(super) fn sizes(eviction: Eviction, share: usize, sharded: bool) -> (u32, u32, u32) {
    let share = u32::try_from(share).unwrap_or(u32::MAX);
    let (window, protected) = match eviction {
        Eviction::TinyLfu => {
            let window = (share / 100).max(1);
            (window, (share - window.min(share)) / 5 * 4)
        }
        Eviction::Lru => (0, share),
    };
    (window, protected, if sharded { protected / 4 } else { 0 })
}

/// A shard's lists over its entries, which are addressed by their slot.
pub(super) struct Order {
    lists: [List; 3],
    /// Each slot's links, segment and stamp (LRU: every entry in the protected list).
    slots: Vec<Slot>,
    tiny: bool,
    /// Whether the lists are kept: an unbounded shard evicts nothing, so it keeps no slots.
    listed: bool,
    window_max: u32,
    protected_max: u32,
    /// Counts moves to the protected list's front (wrapping at 2^32, as the threads' copies
    /// read it; the slots' stamps keep its low 30 bits): an entry moved fewer than `quarter`
    /// moves ago is in its front quarter.
    tick: u32,
    /// See the module's doc: 0 in a single-shard cache.
    quarter: u32,
    /// W-TinyLFU's frequencies, made once the shard is half full (an idle cache pays
    /// nothing for them).
    sketch: Option<Sketch>,
    share: usize,
}

impl Order {
    /// The order of a shard of `share` entries; `sharded`: the store has more than one shard
    /// (else the order is exact). An unbounded shard evicts nothing: no lists.
    pub(super) fn new(eviction: Eviction, share: usize, sharded: bool) -> Self {
        let eviction = if share == usize::MAX {
            Eviction::Lru
        } else {
            eviction
        };
        let (window_max, protected_max, quarter) = sizes(eviction, share, sharded);
        Order {
            lists: [List::EMPTY; 3],
            slots: Vec::new(),
            tiny: eviction == Eviction::TinyLfu,
            listed: share != usize::MAX,
            window_max,
            protected_max,
            tick: 0,
            quarter: if share == usize::MAX { 0 } else { quarter },
            sketch: None,
            share,
        }
    }

    #[inline]
    fn seg(&self, i: u32) -> u8 {
        self.slots[i as usize].seg()
    }

    /// Moves since the one that stamped `mark`, modulo 2^30 (exact for every move count
    /// below 2^30, and every `quarter` is below it).
    #[inline]
    fn since(&self, mark: u32) -> u32 {
        self.tick.wrapping_sub(mark) & STAMP
    }

    /// The tick at which entry `i` last moved to the protected front (0 in a single-shard
    /// cache): the latest tick up to now whose low 30 bits are its stamp, so the copies'
    /// `tick - stamp` over the full 32 bits counts the moves since.
    #[inline]
    pub(super) fn stamp(&self, i: u32) -> u32 {
        if self.quarter == 0 {
            0
        } else {
            self.tick
                .wrapping_sub(self.since(self.slots[i as usize].mark))
        }
    }

    /// Counts an access of the key `hash` (a hit, or a new entry) in the sketch.
    #[inline]
    pub(super) fn count(&mut self, hash: u64) {
        if let Some(s) = &mut self.sketch {
            s.increment(hash);
        }
    }

    /// What a hit on entry `i` does: a hit in the window or probation counts the access in
    /// the sketch and moves the entry to protected (measured: the same hit ratios as
    /// W-TinyLFU's LRU window, whose hits move an entry within the window); one in protected
    /// moves it to the front, uncounted, unless it is in the front quarter or at the front
    /// already (then nothing). Every segment and stamp read once.
    ///
    /// A protected entry's hits are not counted: its key has won its place already, and its
    /// count is read only if it falls back to probation, once it has gone unhit while the
    /// whole protected list moved in front of it. Measured (`cargo bench --bench policy`):
    /// zipf 0.7942 against 0.7928 counting them, the other three workloads unchanged; and a
    /// hit that moves a protected entry skips the sketch's cache line.
    #[inline]
    pub(super) fn on_hit(&self, i: u32) -> OnHit {
        // No slot: an unbounded shard, which moves nothing.
        let Some(&slot) = self.slots.get(i as usize) else {
            return OnHit::Nothing;
        };
        if slot.seg() != PROTECTED {
            OnHit::Promote
        } else if (self.quarter != 0 && self.since(slot.mark) < self.quarter)
            || self.lists[PROTECTED as usize].front == i
        {
            OnHit::Nothing
        } else {
            OnHit::Move
        }
    }

    /// Whether the order has a front quarter (a sharded cache's bounded shard): where it
    /// does, an entry a hit leaves alone ([`OnHit::Nothing`]) or promotes
    /// ([`OnHit::Promote`]) is in it after the hit, and the threads' copies may serve its
    /// next hits (see [`crate::copies`]): the store would not move it either.
    #[inline]
    pub(super) fn sharded(&self) -> bool {
        self.quarter != 0
    }

    /// Moves entry `i` on a hit (see [`Order::on_hit`]); returns the new tick, for the
    /// copies to read.
    pub(super) fn hit_move(&mut self, i: u32) -> Option<u32> {
        if !self.listed {
            return None;
        }
        let seg = self.seg(i);
        self.lists[seg as usize].unlink(&mut self.slots, i);
        let tick = self.push_protected(i);
        if self.tiny && self.lists[PROTECTED as usize].len > self.protected_max {
            // Protected overflows: its least recently used entry goes back to probation.
            if let Some(t) = self.lists[PROTECTED as usize].tail() {
                self.lists[PROTECTED as usize].unlink(&mut self.slots, t);
                self.push(t, PROBATION, 0);
            }
        }
        tick
    }

    /// Puts entry `i` at the front of list `seg`, with `stamp` (only the protected list's
    /// entries' stamps are read).
    #[inline]
    fn push(&mut self, i: u32, seg: u8, stamp: u32) {
        self.slots[i as usize].mark = (u32::from(seg) << SEG_SHIFT) | (stamp & STAMP);
        self.lists[seg as usize].push_front(&mut self.slots, i);
    }

    /// Puts entry `i` at the protected front; returns the new tick.
    #[inline]
    fn push_protected(&mut self, i: u32) -> Option<u32> {
        if self.quarter == 0 {
            self.push(i, PROTECTED, 0);
            return None;
        }
        self.tick = self.tick.wrapping_add(1);
        self.push(i, PROTECTED, self.tick);
        Some(self.tick)
    }

    /// Puts new entry `i` (key `hash`) in: at the window's front, or the LRU list's; returns
    /// the new tick, if any. An overflowing window hands its oldest entry to probation: the
    /// shard had room for the new one.
    #[inline(always)]
    pub(super) fn push_new(&mut self, i: u32, hash: u64) -> Option<u32> {
        if !self.listed {
            self.lists[PROTECTED as usize].len += 1;
            return None;
        }
        if !self.tiny {
            return self.push_protected(i);
        }
        if self.sketch.is_none() && self.len() * 2 >= self.share {
            self.sketch = Some(Sketch::new(self.share));
        }
        if let Some(s) = &mut self.sketch {
            s.add(hash);
        }
        self.push(i, WINDOW, 0);
        if self.lists[WINDOW as usize].len > self.window_max
            && let Some(t) = self.lists[WINDOW as usize].tail()
        {
            self.lists[WINDOW as usize].unlink(&mut self.slots, t);
            self.push(t, PROBATION, 0);
        }
        None
    }

    /// The first step of making room in a full shard for a new entry: which entry goes, or
    /// which two the sketch must decide between (see [`Order::admit`]).
    #[inline]
    pub(super) fn pick(&self) -> Pick {
        let main = self.lists[PROBATION as usize]
            .tail()
            .or(self.lists[PROTECTED as usize].tail());
        let window = &self.lists[WINDOW as usize];
        match (window.tail(), main) {
            // The window's oldest entry against the main part's least recently used one.
            (Some(candidate), Some(victim))
                if window.len >= self.window_max && self.sketch.is_some() =>
            {
                Pick::Contest { candidate, victim }
            }
            (Some(candidate), _) if window.len >= self.window_max => Pick::Take(candidate),
            (w, main) => main.or(w).map_or(Pick::Empty, Pick::Take),
        }
    }

    /// Settles a [`Pick::Contest`] between the window's oldest entry, whose key hashes to
    /// `c`, and the main part's least recently used one (`v`): the candidate is admitted to
    /// probation only if its key was asked for more often. Returns the slot that goes and its
    /// key's hash, taken out of the lists.
    #[inline(always)]
    pub(super) fn admit(&mut self, candidate: u32, victim: u32, c: u64, v: u64) -> (u32, u64) {
        let admitted = self.sketch.as_ref().is_some_and(|s| s.admits(c, v));
        self.lists[WINDOW as usize].unlink(&mut self.slots, candidate);
        if admitted {
            self.push(candidate, PROBATION, 0);
            self.unlink(victim);
            (victim, v)
        } else {
            (candidate, c)
        }
    }

    /// Takes entry `i` out of its list.
    #[inline]
    pub(super) fn unlink(&mut self, i: u32) {
        if !self.listed {
            self.lists[PROTECTED as usize].len -= 1;
            return;
        }
        let seg = self.seg(i);
        self.lists[seg as usize].unlink(&mut self.slots, i);
    }

    fn len(&self) -> usize {
        self.lists.iter().map(|l| l.len as usize).sum()
    }

    /// Room for `more` entries' links, segments and stamps.
    pub(super) fn reserve(&mut self, more: usize) {
        if self.listed {
            self.slots.reserve_exact(more);
        }
    }

    /// Links, a segment and a stamp for a new slot at the end.
    pub(super) fn push_slot(&mut self) {
        if self.listed {
            self.slots.push(Slot::NONE);
        }
    }

    /// Slot `i`, already out of the lists, goes; the last slot takes its place (as the
    /// slab's entries do), and its neighbours point to `i`.
    pub(super) fn remove_slot(&mut self, i: u32) {
        if !self.listed {
            return;
        }
        let at = i as usize;
        self.slots.swap_remove(at);
        if let Some(&slot) = self.slots.get(at) {
            let list = &mut self.lists[slot.seg() as usize];
            list.link_prev(&mut self.slots, slot.next, i);
            list.link_next(&mut self.slots, slot.prev, i);
        }
    }

    /// Gives back memory beyond `n` slots.
    pub(super) fn shrink_to(&mut self, n: usize) {
        self.slots.shrink_to(n);
    }

    /// Empty lists (the sketch stays: what was asked for before a `clear` may well be
    /// asked for again).
    pub(super) fn clear(&mut self) {
        self.lists = [List::EMPTY; 3];
        self.slots = Vec::new();
    }
}

/// What [`Order::on_hit`] says a hit does.
pub(super) enum OnHit {
    /// Nothing: the entry is in the protected list's front quarter, or at its front.
    Nothing,
    /// Moves the protected entry to the front ([`Order::hit_move`]), uncounted.
    Move,
    /// Counts the access ([`Order::count`]) and moves the entry to protected.
    Promote,
}

/// What [`Order::pick`] found to make room.
pub(super) enum Pick {
    /// The shard holds nothing.
    Empty,
    /// This slot goes (its entry is still in the lists: [`Order::unlink`] it).
    Take(u32),
    /// The sketch decides (see [`Order::admit`]).
    Contest { candidate: u32, victim: u32 },
}

#[cfg(test)]
impl Order {
    /// Whether entry `i` is in the front quarter of the protected list.
    pub(super) fn recently_moved(&self, i: u32) -> bool {
        self.quarter != 0 && {
            let slot = self.slots[i as usize];
            slot.seg() == PROTECTED && self.since(slot.mark) < self.quarter
        }
    }

    /// Whether a hit on entry `i` now leaves it in the front quarter (it is there, or the
    /// hit promotes it there), by the segments and stamps: what [`Slots::hit`] tells from
    /// [`Order::on_hit`] alone.
    ///
    /// [`Slots::hit`]: super::slots::Slots::hit
    pub(super) fn copyable(&self, i: u32) -> bool {
        let by_place = self.recently_moved(i) || (self.quarter != 0 && self.seg(i) != PROTECTED);
        let by_hit = self.sharded() && !matches!(self.on_hit(i), OnHit::Move);
        assert_eq!(by_place, by_hit, "entry {i}");
        by_place
    }

    /// The order's bytes per slot.
    pub(super) const SLOT_BYTES: usize = size_of::<Slot>();

    /// The heap bytes of the slots.
    pub(super) fn slot_bytes(&self) -> usize {
        self.slots.capacity() * Self::SLOT_BYTES
    }

    /// Sets the move count, to test its wrapping.
    pub(super) fn set_tick(&mut self, tick: u32) {
        self.tick = tick;
    }

    /// Every list's slots from front to tail, checking every link, length and segment on
    /// the way; all of them, window first.
    pub(super) fn walk(&self) -> Vec<u32> {
        if !self.listed {
            // No links to walk: the slots counted in and out, and nothing else.
            assert!(self.slots.is_empty() && self.lists.iter().all(|l| l.front == l.tail));
            assert_eq!(self.len(), self.lists[PROTECTED as usize].len as usize);
            return (0..self.lists[PROTECTED as usize].len).collect();
        }
        let links = &self.slots;
        let mut seen = Vec::new();
        for (seg, list) in self.lists.iter().enumerate() {
            let mut prev = NIL;
            let mut at = list.front;
            let mut len = 0;
            while at != NIL {
                assert_eq!(links[at as usize].prev, prev, "prev link of {at}");
                assert_eq!(usize::from(self.seg(at)), seg, "segment of {at}");
                seen.push(at);
                len += 1;
                assert!(seen.len() <= links.len(), "a cycle in the lists");
                prev = at;
                at = links[at as usize].next;
            }
            assert_eq!(list.tail, prev, "tail of list {seg}");
            assert_eq!(list.len, len, "length of list {seg}");
        }
        if self.tiny {
            assert!(
                self.lists[WINDOW as usize].len <= self.window_max.max(1),
                "window"
            );
        }
        seen
    }
}
