//! How a store is cut into shards: how many, each one's share of the capacity and its LRU
//! window, and the threads' copies of a store of them.

use super::shard::Hasher;
use crate::config::Config;
use crate::copies::{Copies, CopyMarks, EntryCopy};
use crate::key::KeyRef;
use std::hash::Hash;
use std::num::NonZeroUsize;

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

/// Shard `i`'s LRU window (see [`super::order`]), of `n` shards.
pub(super) fn shard_window(config: &Config, n: usize, i: usize) -> u32 {
    if n == 1 || config.capacity.is_none() {
        0
    } else {
        u32::try_from(shard_capacity(config, n, i) / 4).unwrap_or(u32::MAX)
    }
}

/// The copies of a store of `n` shards, if threads may keep any: only where they change
/// nothing a caller sees (see [`crate::copies`]). `possible`: the store's types allow them.
/// Not generic, like the other parts of a store's set-up that need not be.
pub(super) fn copies_for(
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
