//! How often each key was asked for lately, approximately: a shard's frequency sketch, which
//! the default eviction policy's admission reads (see [`super::order`]).
//!
//! A count-min sketch of 4-bit counters, four per key, sixteen to a `u64` word: about four
//! counters per entry the shard is sized for (two bytes an entry). A key's four counters
//! are in one 64-byte block (one cache line: an access costs one miss, not four), each in
//! a different word of it, as in Caffeine's sketch. A key's estimate is the
//! least of its four counters, and an increment raises only the counters at that least
//! value (a conservative update: collisions inflate the estimates less). Every time the
//! shard has counted ten accesses per entry it is sized for, every counter is halved, so
//! that what was popular long ago does not stay ahead of what is popular now.
//!
//! The sketch lives under its shard's lock; it knows nothing of entries, only of hashes.

/// A shard's frequency sketch.
pub(super) struct Sketch {
    words: Box<[u64]>,
    /// Blocks of [`BLOCK`] words, less one.
    mask: usize,
    /// Counted increments since the last halving (halved with the counters).
    samples: usize,
    /// Increments between two halvings.
    period: usize,
}

/// Odd multipliers that derive the counters' places from a key's hash (the store's hash
/// bits pick the shard and the index slot: these spread them again).
const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;
const NIBBLE: u64 = 0xD6E8_FEB8_6659_FD93;
/// Words to a block: 64 bytes.
const BLOCK: usize = 8;
/// The highest bit of every 4-bit counter cleared: a word halved is `(w >> 1) & HALF`.
const HALF: u64 = 0x7777_7777_7777_7777;

impl Sketch {
    /// A sketch for a shard of `share` entries.
    pub(super) fn new(share: usize) -> Self {
        let words = (share.max(16).next_power_of_two() / 4).max(BLOCK);
        Sketch {
            words: vec![0; words].into_boxed_slice(),
            mask: words / BLOCK - 1,
            samples: 0,
            period: share.max(16).saturating_mul(10),
        }
    }

    /// The key's block, and the word (within the block) and the bit offset of each of its
    /// four counters.
    #[inline]
    fn places(&self, hash: u64) -> (usize, [(usize, u32); 4]) {
        #[allow(clippy::cast_possible_truncation)] // the high half picks the block
        let block = ((hash.wrapping_mul(SPREAD) >> 32) as usize & self.mask) * BLOCK;
        let n = hash.wrapping_mul(NIBBLE);
        let place = |j: usize| {
            // Counter `j` in word `2j` or `2j + 1` of the block.
            #[allow(clippy::cast_possible_truncation)] // one bit
            let word = 2 * j + ((n >> j) & 1) as usize;
            #[allow(clippy::cast_possible_truncation)] // a nibble index, below 16
            let nibble = ((n >> (60 - 4 * j)) & 15) as u32;
            (word, nibble * 4)
        };
        (block, [place(0), place(1), place(2), place(3)])
    }

    /// The key's block (always there: the table is whole blocks).
    #[inline]
    fn block(&self, start: usize) -> Option<&[u64; BLOCK]> {
        self.words.get(start..).and_then(<[u64]>::first_chunk)
    }

    /// The key's estimated count, 0 to 15.
    #[inline]
    pub(super) fn estimate(&self, hash: u64) -> u8 {
        let (start, places) = self.places(hash);
        let Some(block) = self.block(start) else {
            return 0;
        };
        let mut least = 15;
        for (word, shift) in places {
            least = least.min((block[word & (BLOCK - 1)] >> shift) & 15);
        }
        #[allow(clippy::cast_possible_truncation)] // a 4-bit counter
        let least = least as u8;
        least
    }

    /// Whether the key hashing to `candidate` was asked for more often than the one hashing
    /// to `victim` (W-TinyLFU's admission).
    #[inline]
    pub(super) fn admits(&self, candidate: u64, victim: u64) -> bool {
        self.estimate(candidate) > self.estimate(victim)
    }

    /// Counts one access of the key.
    #[inline]
    pub(super) fn increment(&mut self, hash: u64) {
        let (start, places) = self.places(hash);
        let Some(block) = self
            .words
            .get_mut(start..)
            .and_then(<[u64]>::first_chunk_mut::<BLOCK>)
        else {
            return;
        };
        let mut counts = [0; 4];
        for (c, &(word, shift)) in counts.iter_mut().zip(&places) {
            *c = (block[word & (BLOCK - 1)] >> shift) & 15;
        }
        let least = counts.iter().copied().min().unwrap_or(15);
        if least < 15 {
            for (&c, &(word, shift)) in counts.iter().zip(&places) {
                if c == least {
                    block[word & (BLOCK - 1)] += 1 << shift;
                }
            }
        }
        self.samples += 1;
        if self.samples >= self.period {
            self.halve();
        }
    }

    /// Halves every counter (out of line: once per ten accesses per entry).
    #[inline(never)]
    fn halve(&mut self) {
        for w in &mut self.words {
            *w = (*w >> 1) & HALF;
        }
        self.samples /= 2;
    }

    /// The sketch's heap bytes.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.words.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(k: u64) -> u64 {
        k.wrapping_mul(0xA076_1D64_78BD_642F).rotate_left(29) ^ k
    }

    #[test]
    fn counts_saturate_at_fifteen_and_estimates_never_undercount() {
        let mut s = Sketch::new(1024);
        for k in 0..200_u64 {
            for _ in 0..(k % 20) {
                s.increment(spread(k));
            }
        }
        for k in 0..200_u64 {
            let e = s.estimate(spread(k));
            assert!(u64::from(e) >= (k % 20).min(15), "key {k}: {e}");
        }
        assert_eq!(s.bytes(), 1024 / 4 * 8, "two bytes per entry");
    }

    #[test]
    fn halving_ages_old_counts() {
        let mut s = Sketch::new(1024);
        for _ in 0..12 {
            s.increment(spread(1));
        }
        assert!(s.estimate(spread(1)) >= 12);
        // Up to ten accesses per entry (10 240): one halving, which leaves at most 7.
        for k in 0..(10 * 1024 - 12) {
            s.increment(spread(1000 + k));
        }
        assert!(s.estimate(spread(1)) <= 7, "{}", s.estimate(spread(1)));
    }
}
