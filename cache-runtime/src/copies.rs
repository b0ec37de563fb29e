//! Each thread's copies of the entries it read lately, so that a repeated hit takes no lock
//! and writes no memory another thread reads.
//!
//! A hit under a shard's lock costs two atomic read-modify-writes on a cache line that
//! every thread reading that shard writes too: a few nanoseconds alone, and far more once
//! two cores pass the line back and forth. A thread's copy table answers most hits of a busy
//! cache from the thread's own memory instead, and checks with plain loads that the copy is
//! still what the store holds:
//!
//! - **versions.** Each shard has a few dozen version counters, one per stripe of its
//!   hashes. Every removal from the store (invalidation, eviction, expiry, a new value
//!   replacing an old one, `clear`, a tag) bumps its stripe's counter under the shard's
//!   lock. A copy records the counter it was taken at, under that same lock, and serves
//!   only while the counter has not moved: once `invalidate_f` returns, no thread's copy
//!   serves the old value again.
//! - **expiry.** A copy keeps its entry's deadline, and serves only while the entry is
//!   fresh; a stale or expired entry goes to the store, which decides.
//! - **LRU order.** A copy keeps the shard's move count at which its entry last moved to
//!   the front of the shard's list, and serves only while the entry is still in the front
//!   quarter of that list: exactly the hits that the store would not move either. Past
//!   that, the hit goes to the store, which moves the entry and renews the copy.
//!
//! A copy is taken when the store serves a hit on an entry that is in the front quarter of
//! its shard (read or stored lately): a cold entry's copy would only push a hot one out.
//!
//! **What the copies cost.** A table is made on its thread's first such hit, with room for a
//! dozen copies, and doubles when full, up to room for 1 792 copies (see `copies/table.rs`
//! for the sizing rule): it holds what its thread keeps reading of what the cache holds, no
//! more. All tables of the process together take at most the bytes of the copies' budget,
//! 1 MiB unless `MEMOCACHE_COPIES_BUDGET` says otherwise (see `copies/budget.rs`): a table
//! the budget cannot pay for stays small, or is not made. A table that keeps missing (more
//! than a quarter of its probes find no current copy, once it can grow no more: the cache is
//! read over far more keys than the table holds, or its entries keep changing) costs a lookup
//! before each lookup in the store: it is freed, its thread rests from copying that cache
//! for a few thousand calls, and then starts a new table; a thread whose tables keep
//! wasting rests twice as long each time, up to a million calls. A table its thread has
//! stopped reading (no hit and no copy while the thread took a few thousand copies of other
//! caches, or no hit since the budget last refused the thread a table) is freed too (see
//! `copies/slots.rs`); a thread refused a table tries again 256 calls later. A thread's
//! tables go when it ends; a thread that stops calling cached functions keeps its tables
//! (and their share of the budget) until it ends.
//!
//! Copies exist only where this changes nothing a caller can see: in sharded and unbounded
//! caches (a single-shard cache keeps exact LRU order, which every hit changes), without
//! `tti` (every hit moves the idle deadline), and for keys and values without drop glue:
//! they own no heap memory, so the copies hold nothing that `capacity` is meant to bound and
//! nothing an invalidation is meant to free. A table's hits count in the cache's stats
//! through a counter only its thread writes.
//!
//! The store knows this file's [`Copies`] (what each shard publishes) and builds each
//! [`EntryCopy`] under its lock; this file knows nothing of the store.

use crate::key::KeyRef;
use crate::layout::{Padded, shard_index};
use crate::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use budget::Budget;
use std::cell::RefCell;
use std::hash::Hash;
// The hit counters and store ids are not part of the protocol the model checker explores
// (and a checker's atomic would be a scheduling point under `counters`' std lock).
pub(crate) use slots::bypassed;
use slots::{Idle, REFUSED_REST, ROUND, SWEEP, TableSlot, Tables, passed_by, quiet};
use std::sync::atomic::{AtomicU64 as Counter, AtomicUsize};
use std::sync::{Arc, Mutex, PoisonError};
use table::CopyTable;

/// The most version stripes a shard gets.
pub(crate) const MAX_STRIPES: usize = 256;

/// Hands each store with copies its index in every thread's list of copy tables.
static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// The id of no store: the copies of a cache that keeps none.
pub(crate) const NO_COPIES: usize = usize::MAX;

#[cfg(not(shuttle))]
thread_local! {
    /// This thread's copy tables, by store id (a `CopyTable<K, V>` each).
    static TABLES: RefCell<Tables> = const { RefCell::new(Tables::new()) };
}

// Under the model checker, each of its threads has copy tables of its own, dropped while the
// checker still runs (see `sync.rs`).
#[cfg(shuttle)]
shuttle::thread_local! {
    static TABLES: RefCell<Tables> = RefCell::new(Tables::new());
}

/// What a shard publishes for the copies to read without its lock.
#[derive(Default)]
pub(crate) struct ShardMoves {
    /// The shard's move count (see `Shard::tick`), stored at every move.
    pub(crate) tick: AtomicU32,
    /// The shard's `window`: how many moves an entry stays in the front quarter.
    pub(crate) window: u32,
}

/// The store's side of its copies: what each shard publishes, and the hit counters.
pub(crate) struct Copies {
    /// Where this store's copy table sits in each thread's list.
    pub(crate) id: usize,
    /// The store's hasher: a copy hashes as the store's entry does.
    hasher: foldhash::fast::RandomState,
    versions: Box<[AtomicU64]>,
    stripe_mask: usize,
    stripe_bits: u32,
    moves: Box<[Padded<ShardMoves>]>,
    shard_mask: usize,
    /// The hit counters of the threads that have a copy table, each written by its thread only.
    counters: Mutex<Vec<Arc<Padded<Counter>>>>,
    /// Hits counted by the tables that have gone (freed, or their threads ended).
    retired: Counter,
    /// What the tables charge for their memory.
    budget: &'static Budget,
}

/// Moves a version counter on: a load and a store, not a read-modify-write. Only the lock
/// holder of the counter's shard writes it (each stripe belongs to one shard), so no two
/// writes race, and the shard's lock orders one writer's store before the next one's load.
/// This saves a locked instruction on every removal (so on every miss of a full cache).
#[inline]
fn bump(version: &AtomicU64) {
    version.store(
        version.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// Where one shard bumps its versions and publishes its move count.
#[derive(Clone)]
pub(crate) struct ShardCopies {
    copies: &'static Copies,
    shard: usize,
}

impl Copies {
    /// Copies for a store of `shards` shards of `per_shard` entries each (`None`: unbounded)
    /// and these LRU windows.
    pub(crate) fn new(
        hasher: foldhash::fast::RandomState,
        per_shard: Option<usize>,
        windows: &[u32],
    ) -> Self {
        let shards = windows.len();
        // About one stripe per 32 entries: an eviction voids few of the copies, and the
        // versions a thread reads stay few (they share its caches with the copies).
        let stripes = per_shard
            .map_or(64, |c| (c / 32).max(1))
            .next_power_of_two()
            .min(MAX_STRIPES);
        Copies {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            hasher,
            versions: (0..shards * stripes).map(|_| AtomicU64::new(0)).collect(),
            stripe_mask: stripes - 1,
            stripe_bits: stripes.ilog2(),
            moves: windows
                .iter()
                .map(|&window| {
                    Padded(ShardMoves {
                        tick: AtomicU32::new(0),
                        window,
                    })
                })
                .collect(),
            shard_mask: shards - 1,
            counters: Mutex::new(Vec::new()),
            retired: Counter::new(0),
            budget: &BUDGET,
        }
    }

    /// The same copies, charging `budget` (a test's own) instead of the process's.
    #[cfg(test)]
    pub(crate) fn with_budget(mut self, budget: &'static Budget) -> Self {
        self.budget = budget;
        self
    }

    /// The handle shard `shard` bumps its versions and publishes its moves through.
    pub(crate) fn shard(&'static self, shard: usize) -> ShardCopies {
        ShardCopies {
            copies: self,
            shard,
        }
    }

    #[inline]
    fn stripe(&self, shard: usize, hash: u64) -> usize {
        // Bits 8 up: apart from the shard's bits and from hashbrown's control byte.
        #[allow(clippy::cast_possible_truncation)]
        let within = (hash >> 8) as usize & self.stripe_mask;
        (shard << self.stripe_bits) | within
    }

    /// What a copy of the entry for `hash` records, with the entry's `deadline` and move
    /// `stamp`: read under the shard's lock, by the store, when it serves a hit.
    pub(crate) fn marks(&self, hash: u64, deadline: u64, stamp: u32) -> CopyMarks {
        let stripe = self.stripe(shard_index(hash, self.shard_mask), hash);
        CopyMarks {
            version: self.versions[stripe].load(Ordering::Relaxed),
            deadline,
            stamp,
            #[allow(clippy::cast_possible_truncation)] // shards * stripes fits easily
            stripe: stripe as u32,
        }
    }

    /// All hits answered by copies.
    pub(crate) fn hits(&self) -> u64 {
        let counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        let live: u64 = counters.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
        live + self.retired.load(Ordering::Relaxed)
    }

    /// A fresh copy of the value for `key` from this thread's copy table `id`, if it has one that
    /// is still current.
    // Forced in optimised builds only: a debug build compiles faster without it.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn get<K, V, L>(id: usize, key: &L) -> Option<V>
    where
        K: 'static,
        V: Clone + 'static,
        L: KeyRef<Owned = K>,
    {
        // The thread's bypass too (see `slots::BYPASSED`); and a cache without copies, whose
        // id is past the quiet stores'.
        if passed_by(id) {
            return None;
        }
        TABLES
            .try_with(|cell| {
                // A `Clone`, `Eq` or `Hash` of the user's that calls a cached function while
                // this thread's copy tables are in use finds them busy: the store answers.
                // Borrowed mutably, so that a table that wastes its probes is freed here.
                let mut tables = cell.try_borrow_mut().ok()?;
                let slot = tables.slots.get_mut(id)?;
                if !slot.probing() {
                    return None;
                }
                let table = slot.table.as_ref()?.downcast_ref::<CopyTable<K, V>>()?;
                let answer = table.get(key);
                if answer.is_none()
                    && slot.wasted(table.hits.0.load(Ordering::Relaxed), table.grown())
                {
                    slot.free();
                    slot.quieten(id);
                }
                answer
            })
            .ok()
            .flatten()
    }

    /// Whether this thread's copy table takes copies now (see [`TableSlot::copying`]).
    #[inline]
    pub(crate) fn copying(&self) -> bool {
        if quiet(self.id, false) {
            return false;
        }
        TABLES
            .try_with(|cell| {
                cell.try_borrow()
                    .is_ok_and(|t| t.slots.get(self.id).is_none_or(TableSlot::copying))
            })
            .unwrap_or(false)
    }

    /// Puts a copy of an entry the store just served into this thread's copy table (made by
    /// `copy`, only if the table takes it).
    pub(crate) fn fill<K, V>(&'static self, hash: u64, copy: impl FnOnce() -> EntryCopy<K, V>)
    where
        K: Hash + Eq + 'static,
        V: 'static,
    {
        let _ = TABLES.try_with(|cell| {
            let Ok(mut tables) = cell.try_borrow_mut() else {
                return;
            };
            let tables = &mut *tables;
            let id = self.id;
            tables.reach(id);
            if !tables.slots[id].copying() {
                return;
            }
            if tables.slots[id].table.is_none() {
                // If the budget is spent, this thread's idle tables go first.
                let table = CopyTable::<K, V>::new(self).or_else(|| {
                    tables.sweep(id, 0);
                    CopyTable::<K, V>::new(self)
                });
                let Some(table) = table else {
                    // Still spent: this thread reads this cache from the store for a while,
                    // and tries again (by then the tables it stopped reading show no new hit).
                    tables.slots[id].rest.set(REFUSED_REST);
                    tables.slots[id].quieten(id);
                    return;
                };
                tables.idle[id] = Idle {
                    hits_of: Some(CopyTable::<K, V>::hits_of),
                    swept_hits: 0,
                    last_fill: tables.fills,
                };
                tables.slots[id].table = Some(Box::new(table));
            }
            let slot = &mut tables.slots[id];
            let Some(table) = slot
                .table
                .as_mut()
                .and_then(|t| t.downcast_mut::<CopyTable<K, V>>())
            else {
                return;
            };
            let could_grow = !table.grown();
            // The probe that missed did some good after all: it led to this copy, which will
            // serve, unless the table can grow no more and drops copies to take it.
            if could_grow {
                slot.wasted.set(slot.wasted.get().saturating_sub(1));
            }
            table.put(hash, copy());
            // The table could not grow: this thread's idle tables go, so that it may next time.
            let refused = could_grow && table.grown();
            tables.fills = tables.fills.wrapping_add(1);
            tables.idle[id].last_fill = tables.fills;
            if refused {
                tables.sweep(id, ROUND);
            } else if tables.fills % SWEEP == 0 {
                tables.sweep(id, SWEEP);
            }
        });
    }
}

impl ShardCopies {
    /// Voids the copies of the entry for `hash` (and of its stripe).
    #[inline]
    pub(crate) fn bump(&self, hash: u64) {
        let f = self.copies;
        bump(&f.versions[f.stripe(self.shard, hash)]);
    }

    /// Voids every copy of the shard's entries.
    pub(crate) fn bump_all(&self) {
        let f = self.copies;
        let first = self.shard << f.stripe_bits;
        for v in &f.versions[first..=first + f.stripe_mask] {
            bump(v);
        }
    }

    /// Publishes the shard's move count.
    #[inline]
    pub(crate) fn set_tick(&self, tick: u32) {
        self.copies.moves[self.shard]
            .0
            .tick
            .store(tick, Ordering::Relaxed);
    }
}

/// A copy of an entry, and what makes it current.
pub(crate) struct EntryCopy<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    pub(crate) marks: CopyMarks,
}

/// What makes a copy current, recorded when it is taken (see [`Copies::marks`]).
pub(crate) struct CopyMarks {
    /// The stripe's version when it was taken.
    version: u64,
    /// When the entry stops being fresh.
    deadline: u64,
    /// The shard's move count when the entry last moved to the front.
    stamp: u32,
    /// The entry's version stripe (which tells its shard).
    stripe: u32,
}

mod budget;
mod slots;
mod table;

pub(crate) use budget::BUDGET;

#[cfg(test)]
mod tests;
