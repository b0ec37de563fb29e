//! Where a key's hash puts its entry (its shard), and values kept on cache lines of their own:
//! what the store and the per-thread copies must agree on.

/// The shard of the entry for `hash`, of `mask + 1` shards (at most 256): the top byte of the
/// hash multiplied by an odd constant. The store and the per-thread copies both place entries
/// by it: a copy's version check is only right if the two agree.
///
/// Not the hash's own bits: the store's hasher (foldhash's fast one) spreads the bits the
/// table probes with (the low ones and the top seven), but its middle bits can be nearly
/// constant over nearby integers. Taken from bits 32 up, the keys 10 000..10 500 went to
/// only four of eight shards in about one process in fifty (the seed is per process): the
/// other four never stored, so never swept their expired entries. The multiply carries every
/// bit of the hash into the top byte.
#[inline]
pub(crate) fn shard_index(hash: u64, mask: usize) -> usize {
    #[allow(clippy::cast_possible_truncation)] // the top byte
    let top = ((hash ^ (hash >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize;
    top & mask
}

/// A value on its own cache lines (128 bytes: two lines, which adjacent-line prefetch pairs),
/// so that threads writing neighbouring values do not contend.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct Padded<T>(pub(crate) T);

#[cfg(test)]
mod tests {
    use super::shard_index;
    use std::hash::BuildHasher;

    /// 500 nearby integer keys over eight shards, hashed as the store hashes them, for 2 000
    /// seeds (the process's shared seed and the store's own, which foldhash's `RandomState`
    /// draws at random): the fewest keys a shard gets. Bits 32 up of the hash (the placement
    /// before `shard_index` mixed) left a shard with none for some seeds.
    #[test]
    fn nearby_integer_keys_spread_over_every_shard() {
        let spread = |s: u64| s.wrapping_mul(0x2545_F491_4F6C_DD1D).rotate_left(17);
        let fewest = (0..2_000_u64)
            .map(|seed| {
                let shared = Box::leak(Box::new(foldhash::SharedSeed::from_u64(spread(seed / 4))));
                let hasher = foldhash::fast::SeedableRandomState::with_seed(spread(seed), shared);
                let mut per_shard = [0_usize; 8];
                for k in 10_000..10_500_u64 {
                    per_shard[shard_index(hasher.hash_one(k), 7)] += 1;
                }
                per_shard.into_iter().min().unwrap_or(0)
            })
            .min()
            .unwrap_or(0);
        // 62.5 each on average; 30 is more than four standard deviations below.
        assert!(fewest >= 30, "a shard got only {fewest} of 500 keys");
    }
}
