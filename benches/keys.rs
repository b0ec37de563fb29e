//! The keys the benches draw, the same in each: SplitMix64's finaliser and the seeded Zipf
//! sequence. Each bench is a target of its own (`benches/Cargo.toml`), which includes this file
//! as its module `keys`.

/// SplitMix64's finaliser: spreads small integers over the whole `u64` range.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The zipf workload's ranks, draws and seed: Zipf(1.0) over 100 000 keys, 2^20 calls.
pub const ZIPF_KEYS: usize = 100_000;
/// See [`ZIPF_KEYS`].
pub const ZIPF_LEN: usize = 1 << 20;
/// See [`ZIPF_KEYS`].
pub const ZIPF_SEED: u64 = 0x5EED_2145_0F0F;

/// Zipf(s) over `n` ranks: `len` draws from a seeded SplitMix64 stream by inverse CDF,
/// rank `r` mapped to the key `mix(r)`. Deterministic: every comparator sees the same keys.
#[allow(dead_code)] // memory.rs draws no Zipf keys
pub fn zipf_sequence(n: usize, s: f64, len: usize, seed: u64) -> Vec<u64> {
    let mut cdf = Vec::with_capacity(n);
    let mut total = 0.0;
    for r in 1..=n {
        total += 1.0 / (r as f64).powf(s);
        cdf.push(total);
    }
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let u = (mix(state) >> 11) as f64 / (1u64 << 53) as f64 * total;
            let rank = cdf.partition_point(|&c| c < u).min(n - 1);
            mix(rank as u64)
        })
        .collect()
}

/// [`zipf_sequence`] of the zipf workload: s = 1.0 over [`ZIPF_KEYS`], [`ZIPF_LEN`] draws.
#[allow(dead_code)] // memory.rs draws no Zipf keys
pub fn zipf() -> Vec<u64> {
    zipf_sequence(ZIPF_KEYS, 1.0, ZIPF_LEN, ZIPF_SEED)
}
