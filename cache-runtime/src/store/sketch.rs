//! How often each key was asked for lately, approximately: a shard's frequency sketch, which
//! the default eviction policy's admission reads (see [`super::order`]).
//!
//! A count-min sketch of 4-bit counters, four per key, sixteen to a `u64` word: about four
//! counters per entry the shard is sized for (two bytes an entry). A key's four counters
//! are in one 64-byte block, aligned to 64 bytes (one cache line: an access costs one miss,
//! not two or four), each in a different word of it, as in Caffeine's sketch. A key's
//! estimate is the least of its four counters, and an increment raises only the counters at
//! that least value (a conservative update: collisions inflate the estimates less). Every
//! time the shard has counted ten accesses per entry it is sized for, every counter is
//! halved, so that what was popular long ago does not stay ahead of what is popular now.
//!
//! The sketch lives under its shard's lock; it knows nothing of entries, only of hashes.

/// A shard's frequency sketch.
pub(super) struct Sketch {
    blocks: Box<[Block]>,
    /// Blocks, less one (a power of two, less one).
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

/// One cache line of counters: the allocator aligns a `[u64; 8]` to 8 bytes only, which
/// would split most blocks over two lines.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Block([u64; BLOCK]);
/// The highest bit of every 4-bit counter cleared: a word halved is `(w >> 1) & HALF`.
const HALF: u64 = 0x7777_7777_7777_7777;

/// Where counter `j` (0 to 3) of a key whose places are `n` is: word `2j` or `2j + 1` of
/// its block (by bit `j` of `n`), at the nibble that `n`'s bits `60 - 4j` to `63 - 4j` name;
/// returns the word and the bit offset. Written out per counter so that the four places
/// are a few register operations each.
#[inline(always)]
fn place(n: u64, j: u32) -> (usize, u32) {
    #[allow(clippy::cast_possible_truncation)] // one bit
    let word = 2 * j as usize + ((n >> j) & 1) as usize;
    #[allow(clippy::cast_possible_truncation)] // a nibble's offset, below 64
    let shift = ((n >> (58 - 4 * j)) & 60) as u32;
    (word & (BLOCK - 1), shift)
}

/// Counter `j`'s value in `block`, and its place.
#[inline(always)]
fn counter(block: &[u64; BLOCK], n: u64, j: u32) -> (u64, usize, u32) {
    let (word, shift) = place(n, j);
    ((block[word] >> shift) & 15, word, shift)
}

/// The least of a key's four counters.
#[inline(always)]
fn least(block: &[u64; BLOCK], n: u64) -> u64 {
    counter(block, n, 0)
        .0
        .min(counter(block, n, 1).0)
        .min(counter(block, n, 2).0)
        .min(counter(block, n, 3).0)
}

impl Sketch {
    /// A sketch for a shard of `share` entries.
    pub(super) fn new(share: usize) -> Self {
        let words = (share.max(16).next_power_of_two() / 4).max(BLOCK);
        Sketch {
            blocks: vec![Block([0; BLOCK]); words / BLOCK].into_boxed_slice(),
            mask: words / BLOCK - 1,
            samples: 0,
            period: share.max(16).saturating_mul(10),
        }
    }

    /// The key's block, and the bits that place its four counters in it.
    #[inline(always)]
    fn spot(&self, hash: u64) -> (usize, u64) {
        #[allow(clippy::cast_possible_truncation)] // the high half picks the block
        let block = (hash.wrapping_mul(SPREAD) >> 32) as usize & self.mask;
        (block, hash.wrapping_mul(NIBBLE))
    }

    /// The key's estimated count, 0 to 15.
    #[inline]
    pub(super) fn estimate(&self, hash: u64) -> u8 {
        let (at, n) = self.spot(hash);
        // Always there: `mask` is the blocks' count less one.
        let Some(block) = self.blocks.get(at) else {
            return 0;
        };
        let least = least(&block.0, n);
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

    /// Counts one access of the key (see [`Sketch::add`]); out of line, for the shard's
    /// generic hit path, which would otherwise carry a copy per key and value type.
    pub(super) fn increment(&mut self, hash: u64) {
        self.add(hash);
    }

    /// Counts one access of the key: its counters at the least value go up by one (unless
    /// that is 15). Inlined where a store counts its new entry.
    #[inline(always)]
    pub(super) fn add(&mut self, hash: u64) {
        let (at, n) = self.spot(hash);
        if let Some(Block(block)) = self.blocks.get_mut(at) {
            let least = least(block, n);
            if least < 15 {
                // Four different words; each place is worked out again rather than kept
                // (fewer live registers: nothing spills).
                for j in 0..4 {
                    let (word, shift) = place(n, j);
                    if (block[word] >> shift) & 15 == least {
                        block[word] += 1 << shift;
                    }
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
        for w in self.blocks.iter_mut().flat_map(|b| &mut b.0) {
            *w = (*w >> 1) & HALF;
        }
        self.samples /= 2;
    }

    /// The sketch's heap bytes.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.blocks.len() * BLOCK * 8
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
        assert_eq!(s.blocks.as_ptr().addr() % 64, 0, "a block is a cache line");
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

    /// The counters' places and the update written the plain way, one counter at a time
    /// (as the sketch was first written): the sketch must count exactly as it does.
    fn reference(words: &mut [u64], mask: usize, hash: u64) -> u64 {
        let start = ((hash.wrapping_mul(SPREAD) >> 32) as usize & mask) * BLOCK;
        let n = hash.wrapping_mul(NIBBLE);
        let places: Vec<(usize, u64)> = (0..4)
            .map(|j| {
                (
                    start + 2 * j + ((n >> j) & 1) as usize,
                    ((n >> (60 - 4 * j)) & 15) * 4,
                )
            })
            .collect();
        let counts: Vec<u64> = places.iter().map(|&(w, s)| (words[w] >> s) & 15).collect();
        let least = *counts.iter().min().unwrap();
        if least < 15 {
            for (&(w, s), &c) in places.iter().zip(&counts) {
                if c == least {
                    words[w] += 1 << s;
                }
            }
        }
        least
    }

    #[test]
    fn counts_exactly_as_the_plain_reference() {
        let mut s = Sketch::new(256);
        let mut words = vec![0_u64; s.blocks.len() * BLOCK];
        for i in 0..5_000_u64 {
            // Skewed keys, so that counters collide and saturate.
            let k = spread(i % 97 * (i % 7));
            assert_eq!(
                u64::from(s.estimate(k)),
                reference(&mut words.clone(), s.mask, k)
            );
            reference(&mut words, s.mask, k);
            let samples = s.samples;
            s.increment(k);
            if s.samples < samples {
                for w in &mut words {
                    *w = (*w >> 1) & HALF;
                }
            }
            let flat: Vec<u64> = s.blocks.iter().flat_map(|b| b.0).collect();
            assert_eq!(flat, words, "after increment {i}");
        }
    }
}
