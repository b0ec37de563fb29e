//! A shard's LRU order: a doubly linked list through its entries, most recently used at the
//! front, least recently used (evicted first) at the tail.
//!
//! In a sharded cache a hit does not move an entry that is still in the *front quarter* of
//! the list (moved to the front fewer than `window` moves ago): the hot entries of a busy
//! cache are then read without writing other entries' links, and such an entry cannot reach
//! the tail without passing the three other quarters, where its next hit moves it. A single
//! shard (`window` 0) keeps exact LRU order. The list knows nothing else of the entries: the
//! shard stores each entry's [`Links`] in it and lends them to the list by [`Listed`].

/// "No entry" in the links.
pub(super) const NIL: u32 = u32::MAX;

/// An entry's neighbours in the list.
#[derive(Clone, Copy)]
pub(super) struct Links {
    /// Towards the front (most recently used).
    prev: u32,
    /// Towards the tail (least recently used).
    next: u32,
}

impl Links {
    /// Not in the list yet.
    pub(super) const NONE: Links = Links {
        prev: NIL,
        next: NIL,
    };
}

/// What the list needs of an entry: its links.
pub(super) trait Listed {
    fn links(&self) -> &Links;
    fn links_mut(&mut self) -> &mut Links;
}

/// The list over one shard's entries, which are addressed by their slot.
pub(super) struct Order {
    front: u32,
    tail: u32,
    /// Counts moves to the front (wrapping): an entry moved fewer than `window` moves ago is
    /// in the front quarter.
    tick: u32,
    /// See the module's doc: 0 in a single-shard cache, a quarter of the shard's capacity in
    /// a sharded one.
    window: u32,
    /// The tick at which each entry last moved to the front, by slot, when `window` is not 0.
    stamps: Vec<u32>,
}

impl Order {
    pub(super) fn new(window: u32) -> Self {
        Order {
            front: NIL,
            tail: NIL,
            tick: 0,
            window,
            stamps: Vec::new(),
        }
    }

    /// The least recently used entry, if any.
    #[inline]
    pub(super) fn tail(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// The tick at which entry `i` last moved to the front (0 in a single-shard cache).
    #[inline]
    pub(super) fn stamp(&self, i: u32) -> u32 {
        if self.window == 0 {
            0
        } else {
            self.stamps[i as usize]
        }
    }

    /// Whether entry `i` moved to the front fewer than `window` moves ago.
    #[inline]
    pub(super) fn recently_moved(&self, i: u32) -> bool {
        self.window != 0 && self.tick.wrapping_sub(self.stamps[i as usize]) < self.window
    }

    /// Whether a hit on entry `i` moves it to the front.
    #[inline]
    pub(super) fn moves_on_hit(&self, i: u32) -> bool {
        self.front != i && !self.recently_moved(i)
    }

    /// Moves entry `i` to the front; returns the new tick, for the copies to read.
    pub(super) fn move_to_front<N: Listed>(&mut self, nodes: &mut [N], i: u32) -> Option<u32> {
        self.unlink(nodes, i);
        self.push_front(nodes, i)
    }

    /// Puts entry `i`, not in the list, at its front; returns the new tick (see
    /// [`Order::move_to_front`]).
    pub(super) fn push_front<N: Listed>(&mut self, nodes: &mut [N], i: u32) -> Option<u32> {
        let old = self.front;
        *nodes[i as usize].links_mut() = Links {
            prev: NIL,
            next: old,
        };
        self.link_prev(nodes, old, i);
        self.front = i;
        (self.window != 0).then(|| {
            self.tick = self.tick.wrapping_add(1);
            self.stamps[i as usize] = self.tick;
            self.tick
        })
    }

    /// Takes entry `i` out of the list.
    pub(super) fn unlink<N: Listed>(&mut self, nodes: &mut [N], i: u32) {
        let Links { prev, next } = *nodes[i as usize].links();
        self.link_next(nodes, prev, next);
        self.link_prev(nodes, next, prev);
    }

    /// The entry that was in the last slot now sits in slot `i` (the slab moved it into a
    /// hole): its neighbours point to `i`, and its stamp moves with it.
    pub(super) fn moved<N: Listed>(&mut self, nodes: &mut [N], i: u32) {
        let Links { prev, next } = *nodes[i as usize].links();
        self.link_prev(nodes, next, i);
        self.link_next(nodes, prev, i);
    }

    /// Room for `more` entries' stamps.
    pub(super) fn reserve(&mut self, more: usize) {
        if self.window != 0 {
            self.stamps.reserve_exact(more);
        }
    }

    /// A stamp for a new slot at the end.
    pub(super) fn push_slot(&mut self) {
        if self.window != 0 {
            self.stamps.push(0);
        }
    }

    /// Slot `i`'s stamp goes, the last slot's takes its place (as the slab's entries do).
    pub(super) fn remove_slot(&mut self, i: u32) {
        if self.window != 0 {
            self.stamps.swap_remove(i as usize);
        }
    }

    /// Gives back memory beyond `n` slots.
    pub(super) fn shrink_to(&mut self, n: usize) {
        self.stamps.shrink_to(n);
    }

    /// An empty list.
    pub(super) fn clear(&mut self) {
        self.front = NIL;
        self.tail = NIL;
        self.stamps = Vec::new();
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

#[cfg(test)]
impl Order {
    /// The slots from front to tail, checking every link on the way.
    pub(super) fn walk<N: Listed>(&self, nodes: &[N]) -> Vec<u32> {
        let mut seen = Vec::new();
        let mut prev = NIL;
        let mut at = self.front;
        while at != NIL {
            assert_eq!(nodes[at as usize].links().prev, prev, "prev link of {at}");
            seen.push(at);
            assert!(seen.len() <= nodes.len(), "a cycle in the list");
            prev = at;
            at = nodes[at as usize].links().next;
        }
        assert_eq!(self.tail, prev, "tail");
        seen
    }
}
