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
//!   protected, whose overflow goes back to probation's front. So one-time keys (a scan) pass through the
//!   window without pushing out what is read often, and a loop over more keys than fit
//!   keeps the part that fits instead of evicting each key just before it comes back.
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
//! nothing else of the entries: the shard keeps each entry's [`Links`] and lends them by
//! [`Listed`].

use super::sketch::Sketch;
use crate::config::Eviction;

/// "No entry" in the links.
pub(super) const NIL: u32 = u32::MAX;

/// An entry's neighbours in its list.
#[derive(Clone, Copy)]
pub(super) struct Links {
    /// Towards the front (most recently used).
    prev: u32,
    /// Towards the tail (least recently used).
    next: u32,
}

impl Links {
    /// Not in a list yet.
    pub(super) const NONE: Links = Links {
        prev: NIL,
        next: NIL,
    };
}

/// What the lists need of an entry: its links.
pub(super) trait Listed {
    fn links(&self) -> &Links;
    fn links_mut(&mut self) -> &mut Links;
}

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

    fn tail(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    fn push_front<N: Listed>(&mut self, nodes: &mut [N], i: u32) {
        let old = self.front;
        *nodes[i as usize].links_mut() = Links {
            prev: NIL,
            next: old,
        };
        self.link_prev(nodes, old, i);
        self.front = i;
        self.len += 1;
    }

    fn unlink<N: Listed>(&mut self, nodes: &mut [N], i: u32) {
        let Links { prev, next } = *nodes[i as usize].links();
        self.link_next(nodes, prev, next);
        self.link_prev(nodes, next, prev);
        self.len -= 1;
    }

    /// Points `at`'s `prev` link to `to`; with `at` NIL, `to` becomes the tail.
    fn link_prev<N: Listed>(&mut self, nodes: &mut [N], at: u32, to: u32) {
        if at == NIL {
            self.tail = to;
        } else {
            nodes[at as usize].links_mut().prev = to;
        }
    }

    /// Points `at`'s `next` link to `to`; with `at` NIL, `to` becomes the front.
    fn link_next<N: Listed>(&mut self, nodes: &mut [N], at: u32, to: u32) {
        if at == NIL {
            self.front = to;
        } else {
            nodes[at as usize].links_mut().next = to;
        }
    }
}

/// How a shard of `share` entries is split: the window's and the protected list's most
/// entries, and the front quarter (0: exact order).
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
    /// Each slot's list, with W-TinyLFU (the LRU policy keeps every entry in one list).
    segs: Vec<u8>,
    tiny: bool,
    window_max: u32,
    protected_max: u32,
    /// Counts moves to the protected list's front (wrapping): an entry moved fewer than
    /// `quarter` moves ago is in its front quarter.
    tick: u32,
    /// See the module's doc: 0 in a single-shard cache.
    quarter: u32,
    /// The tick at which each entry last moved to the protected front, by slot, when
    /// `quarter` is not 0.
    stamps: Vec<u32>,
    /// W-TinyLFU's frequencies, made once the shard is half full (an idle cache pays
    /// nothing for them).
    sketch: Option<Sketch>,
    share: usize,
}

impl Order {
    /// The order of a shard of `share` entries; `sharded`: the store has more than one shard
    /// (else the order is exact). An unbounded shard evicts nothing: one list.
    pub(super) fn new(eviction: Eviction, share: usize, sharded: bool) -> Self {
        let eviction = if share == usize::MAX {
            Eviction::Lru
        } else {
            eviction
        };
        let (window_max, protected_max, quarter) = sizes(eviction, share, sharded);
        Order {
            lists: [List::EMPTY; 3],
            segs: Vec::new(),
            tiny: eviction == Eviction::TinyLfu,
            window_max,
            protected_max,
            tick: 0,
            quarter: if share == usize::MAX { 0 } else { quarter },
            stamps: Vec::new(),
            sketch: None,
            share,
        }
    }

    #[inline]
    fn seg(&self, i: u32) -> u8 {
        if self.tiny {
            self.segs[i as usize]
        } else {
            PROTECTED
        }
    }

    /// The tick at which entry `i` last moved to the protected front (0 in a single-shard
    /// cache).
    #[inline]
    pub(super) fn stamp(&self, i: u32) -> u32 {
        if self.quarter == 0 {
            0
        } else {
            self.stamps[i as usize]
        }
    }

    /// Whether entry `i` is in the front quarter of the protected list.
    #[inline]
    pub(super) fn recently_moved(&self, i: u32) -> bool {
        self.quarter != 0
            && self.seg(i) == PROTECTED
            && self.tick.wrapping_sub(self.stamps[i as usize]) < self.quarter
    }

    /// Counts an access of the key `hash` (a hit, or a new entry) in the sketch.
    #[inline]
    pub(super) fn count(&mut self, hash: u64) {
        if let Some(s) = &mut self.sketch {
            s.increment(hash);
        }
    }

    /// Whether a hit on entry `i` moves it: a hit in the window or probation moves it to
    /// protected (measured: the same hit ratios as W-TinyLFU's LRU window, whose hits move
    /// an entry within the window), one in protected to its front, unless it is in the front
    /// quarter.
    #[inline]
    pub(super) fn moves_on_hit(&self, i: u32) -> bool {
        self.seg(i) != PROTECTED
            || (self.lists[PROTECTED as usize].front != i && !self.recently_moved(i))
    }

    /// Whether entry `i` is in the protected list's front quarter after a hit now: it is
    /// already, or the hit promotes it there. Such an entry's hits may be served by the
    /// threads' copies (see [`crate::copies`]): the store would not move it either.
    #[inline]
    pub(super) fn copyable(&self, i: u32) -> bool {
        self.recently_moved(i) || (self.quarter != 0 && self.seg(i) != PROTECTED)
    }

    /// Moves entry `i` on a hit (see [`Order::moves_on_hit`]); returns the new tick, for the
    /// copies to read.
    pub(super) fn hit_move<N: Listed>(&mut self, nodes: &mut [N], i: u32) -> Option<u32> {
        let seg = self.seg(i);
        self.lists[seg as usize].unlink(nodes, i);
        let tick = self.push_protected(nodes, i);
        if self.tiny && self.lists[PROTECTED as usize].len > self.protected_max {
            // Protected overflows: its least recently used entry goes back to probation.
            if let Some(t) = self.lists[PROTECTED as usize].tail() {
                self.lists[PROTECTED as usize].unlink(nodes, t);
                self.push(nodes, t, PROBATION);
            }
        }
        tick
    }

    fn push<N: Listed>(&mut self, nodes: &mut [N], i: u32, seg: u8) {
        if self.tiny {
            self.segs[i as usize] = seg;
        }
        self.lists[seg as usize].push_front(nodes, i);
    }

    /// Puts entry `i` at the protected front; returns the new tick.
    fn push_protected<N: Listed>(&mut self, nodes: &mut [N], i: u32) -> Option<u32> {
        self.push(nodes, i, PROTECTED);
        (self.quarter != 0).then(|| {
            self.tick = self.tick.wrapping_add(1);
            self.stamps[i as usize] = self.tick;
            self.tick
        })
    }

    /// Puts new entry `i` (key `hash`) in: at the window's front, or the LRU list's; returns
    /// the new tick, if any. An overflowing window hands its oldest entry to probation: the
    /// shard had room for the new one.
    pub(super) fn push_new<N: Listed>(
        &mut self,
        nodes: &mut [N],
        i: u32,
        hash: u64,
    ) -> Option<u32> {
        if !self.tiny {
            return self.push_protected(nodes, i);
        }
        if self.sketch.is_none() && self.len() * 2 >= self.share {
            self.sketch = Some(Sketch::new(self.share));
        }
        self.count(hash);
        self.push(nodes, i, WINDOW);
        if self.lists[WINDOW as usize].len > self.window_max
            && let Some(t) = self.lists[WINDOW as usize].tail()
        {
            self.lists[WINDOW as usize].unlink(nodes, t);
            self.push(nodes, t, PROBATION);
        }
        None
    }

    /// Picks the entry that goes to make room in a full shard for a new one, and takes it out
    /// of the lists (its slot is the new entry's). `hash_of`: an entry's key hash, for the
    /// sketch; the evicted entry's comes back with it if it was computed. `None`: the shard
    /// holds nothing.
    pub(super) fn evict<N: Listed>(
        &mut self,
        nodes: &mut [N],
        hash_of: impl Fn(&N) -> u64,
    ) -> Option<(u32, Option<u64>)> {
        let main = self.lists[PROBATION as usize]
            .tail()
            .or(self.lists[PROTECTED as usize].tail());
        let window = self.lists[WINDOW as usize];
        let out = match (window.tail(), main) {
            (Some(candidate), victim) if window.len >= self.window_max => {
                // The window's oldest entry against the main part's least recently used one.
                let (admitted, hashes) = match (victim, &self.sketch) {
                    (Some(v), Some(s)) => {
                        let (c, v) = (
                            hash_of(&nodes[candidate as usize]),
                            hash_of(&nodes[v as usize]),
                        );
                        (s.estimate(c) > s.estimate(v), Some((c, v)))
                    }
                    _ => (false, None),
                };
                self.lists[WINDOW as usize].unlink(nodes, candidate);
                match victim {
                    Some(v) if admitted => {
                        self.push(nodes, candidate, PROBATION);
                        (v, hashes.map(|h| h.1))
                    }
                    _ => return Some((candidate, hashes.map(|h| h.0))),
                }
            }
            (w, main) => (main.or(w)?, None),
        };
        let seg = self.seg(out.0);
        self.lists[seg as usize].unlink(nodes, out.0);
        Some(out)
    }

    /// Takes entry `i` out of its list.
    pub(super) fn unlink<N: Listed>(&mut self, nodes: &mut [N], i: u32) {
        let seg = self.seg(i);
        self.lists[seg as usize].unlink(nodes, i);
    }

    /// The entry that was in the last slot now sits in slot `i` (the slab moved it into a
    /// hole, and [`Order::remove_slot`] its segment and stamp): its neighbours point to `i`.
    pub(super) fn moved<N: Listed>(&mut self, nodes: &mut [N], i: u32) {
        let Links { prev, next } = *nodes[i as usize].links();
        let list = &mut self.lists[self.seg(i) as usize];
        list.link_prev(nodes, next, i);
        list.link_next(nodes, prev, i);
    }

    fn len(&self) -> usize {
        self.lists.iter().map(|l| l.len as usize).sum()
    }

    /// Room for `more` entries' segments and stamps.
    pub(super) fn reserve(&mut self, more: usize) {
        if self.tiny {
            self.segs.reserve_exact(more);
        }
        if self.quarter != 0 {
            self.stamps.reserve_exact(more);
        }
    }

    /// A segment and a stamp for a new slot at the end.
    pub(super) fn push_slot(&mut self) {
        if self.tiny {
            self.segs.push(WINDOW);
        }
        if self.quarter != 0 {
            self.stamps.push(0);
        }
    }

    /// Slot `i`'s segment and stamp go, the last slot's take their place (as the slab's
    /// entries do).
    pub(super) fn remove_slot(&mut self, i: u32) {
        if self.tiny {
            self.segs.swap_remove(i as usize);
        }
        if self.quarter != 0 {
            self.stamps.swap_remove(i as usize);
        }
    }

    /// Gives back memory beyond `n` slots.
    pub(super) fn shrink_to(&mut self, n: usize) {
        self.segs.shrink_to(n);
        self.stamps.shrink_to(n);
    }

    /// Empty lists (the sketch stays: what was asked for before a `clear` may well be
    /// asked for again).
    pub(super) fn clear(&mut self) {
        self.lists = [List::EMPTY; 3];
        self.segs = Vec::new();
        self.stamps = Vec::new();
    }
}

#[cfg(test)]
impl Order {
    /// Every list's slots from front to tail, checking every link, length and segment on
    /// the way; all of them, window first.
    pub(super) fn walk<N: Listed>(&self, nodes: &[N]) -> Vec<u32> {
        let mut seen = Vec::new();
        for (seg, list) in self.lists.iter().enumerate() {
            let mut prev = NIL;
            let mut at = list.front;
            let mut len = 0;
            while at != NIL {
                assert_eq!(nodes[at as usize].links().prev, prev, "prev link of {at}");
                assert_eq!(usize::from(self.seg(at)), seg, "segment of {at}");
                seen.push(at);
                len += 1;
                assert!(seen.len() <= nodes.len(), "a cycle in the lists");
                prev = at;
                at = nodes[at as usize].links().next;
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
