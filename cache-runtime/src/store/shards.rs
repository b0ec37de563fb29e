//! How a store is cut into shards: how many, each one's share of the capacity and its front
//! quarter, the capacity they share, and the threads' copies of a store of them.
//!
//! The capacity is the store's, not each shard's: a shard may hold more than its share (up
//! to a quarter more) while the store as a whole has room. Keys never spread exactly evenly
//! over the shards: with a hard share each, the fuller shards would evict while the store
//! is not full, and a second pass over keys that fit the capacity would miss on every key of
//! those shards. A full store's shard evicts one of its own entries for each it stores, so
//! the shards keep the sizes the keys gave them.

use super::expiry::Expiry;
use super::order;
use super::shard::Settings;
use super::slots::Slots;
use crate::config::Config;
use crate::copies::{Copies, CopyMarks, EntryCopy};
use crate::key::KeyRef;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The store's hasher: seeded per process.
pub(super) type Hasher = foldhash::fast::RandomState;

/// A bounded cache gets no more shards than keep this many entries each, so a small
/// capacity (under `2 * MIN_PER_SHARD`) has a single shard and exact LRU order.
pub(super) const MIN_PER_SHARD: usize = 256;

/// How many shards a cache of this capacity gets: a power of two, at most four per core.
pub(super) fn shard_count(capacity: Option<usize>) -> usize {
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

/// Shard `i`'s share of the capacity, of `n` shards.
pub(super) fn shard_capacity(config: &Config, n: usize, i: usize) -> usize {
    config
        .capacity
        .map_or(usize::MAX, |c| c / n + usize::from(i < c % n))
}

/// The most entries a shard of this share holds, when the store has room.
pub(super) fn shard_max(share: usize) -> usize {
    share.saturating_add(share / 4).saturating_add(16)
}

/// Shard `i`'s front quarter (see [`super::order`]), of `n` shards.
pub(super) fn shard_window(config: &Config, n: usize, i: usize) -> u32 {
    if n == 1 || config.capacity.is_none() {
        0
    } else {
        order::sizes(config.eviction, shard_capacity(config, n, i), true).2
    }
}

/// How many entries a bounded store holds, against its capacity: a shard takes a place
/// before it stores an entry in a new slot, and gives it back once the entry is out, so the
/// entries of all shards together never outnumber the capacity.
pub(super) struct Room {
    /// `usize::MAX`: unbounded (nothing is counted).
    limit: usize,
    // Not part of the protocol the model checker explores: every change is one
    // read-modify-write, under the lock of the shard whose entries change.
    used: AtomicUsize,
}

impl Room {
    pub(super) fn new(capacity: Option<usize>) -> Self {
        Room {
            limit: capacity.unwrap_or(usize::MAX),
            used: AtomicUsize::new(0),
        }
    }

    /// Takes a place for a new entry, if there is one left.
    #[inline]
    pub(super) fn take(&self) -> bool {
        if self.limit == usize::MAX {
            return true;
        }
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            if used >= self.limit {
                return false;
            }
            match self.used.compare_exchange_weak(
                used,
                used + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => used = now,
            }
        }
    }

    /// Gives back the places of `n` entries that went.
    #[inline]
    pub(super) fn give(&self, n: usize) {
        if self.limit != usize::MAX && n != 0 {
            self.used.fetch_sub(n, Ordering::Relaxed);
        }
    }

    /// The places taken.
    #[cfg(test)]
    pub(super) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

/// The copies of a store of `n` shards, if threads may keep any: only where they change
/// nothing a caller sees (see [`crate::copies`]). `possible`: the store's types allow them.
/// Not generic, like the other parts of a store's set-up that need not be.
fn copies_for(
    config: &Config,
    n: usize,
    hasher: &Hasher,
    possible: bool,
) -> Option<&'static Copies> {
    let wanted = possible && (n > 1 || config.capacity.is_none()) && config.tti.is_none();
    wanted.then(|| {
        let windows: Vec<u32> = (0..n).map(|i| shard_window(config, n, i)).collect();
        let copies: &'static Copies = Box::leak(Box::new(Copies::new(
            hasher.clone(),
            config.capacity.map(|c| c / n),
            &windows,
        )));
        copies
    })
}

/// What a store is made of before its shards take their types: the settings they share,
/// each shard's slots, and the threads' copies, if any.
pub(super) struct Parts {
    pub(super) settings: Settings,
    pub(super) slots: Vec<Slots>,
    pub(super) copies: Option<&'static Copies>,
}

/// The parts of a store with this configuration (see [`Parts`]); `copies`: whether threads
/// may keep copies of it. Not generic: compiled once, not once per key and value type.
pub(super) fn parts(config: &Config, copies: bool) -> Parts {
    let n = shard_count(config.capacity);
    let hasher = Hasher::default();
    let copies = copies_for(config, n, &hasher, copies);
    let slots = (0..n)
        .map(|i| {
            Slots::new(
                shard_capacity(config, n, i),
                config.eviction,
                n > 1,
                copies.map(|c| c.shard(i)),
            )
        })
        .collect();
    Parts {
        settings: Settings {
            hasher,
            expiry: Expiry::new(config),
            promote: config.capacity.is_some(),
            room: Room::new(config.capacity),
        },
        slots,
        copies,
    }
}

/// Whether threads may keep copies of a store of `K` and `V`: only when neither has drop
/// glue (see [`crate::copies`]). Known at compile time, so that the copies' code leaves the
/// other stores' hit paths altogether.
#[inline(always)]
pub(crate) const fn copies_possible<K, V>() -> bool {
    !std::mem::needs_drop::<K>() && !std::mem::needs_drop::<V>()
}

/// Copies an entry the store just served into the calling thread's copy table; out of line,
/// so that the hit path stays small.
#[inline(never)]
pub(super) fn copy_to_thread<K, V, L>(
    copies: &'static Copies,
    hash: u64,
    key: &L,
    value: &V,
    marks: CopyMarks,
) where
    K: Hash + Eq + 'static,
    V: Clone + 'static,
    L: KeyRef<Owned = K>,
{
    copies.fill(hash, || EntryCopy {
        key: key.to_owned_key(),
        value: value.clone(),
        marks,
    });
}
