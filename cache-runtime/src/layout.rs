//! Where a key's hash puts its entry (its shard), and values kept on cache lines of their own:
//! what the store and the per-thread copies must agree on.

/// The shard of the entry for `hash`, of `mask + 1` shards: bits 32 up (the table probes
/// with the low bits and the top seven). The store and the per-thread copies both place
/// entries by it: a copy's version check is only right if the two agree.
#[inline]
pub(crate) fn shard_index(hash: u64, mask: usize) -> usize {
    #[allow(clippy::cast_possible_truncation)] // only the low bits of the shifted hash matter
    let i = (hash >> 32) as usize & mask;
    i
}

/// A value on its own cache lines (128 bytes: two lines, which adjacent-line prefetch pairs),
/// so that threads writing neighbouring values do not contend.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct Padded<T>(pub(crate) T);
