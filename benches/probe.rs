//! Instructions per call, for callgrind: a plain `main` that warms one kind of call up and then
//! makes `n` more (`probe MODE N`). `benches/probe.sh` runs it under callgrind twice, for
//! 200 000 and for 1 200 000 calls after the same warm-up, and divides the difference by
//! 1 000 000: the instructions of one call, without the start-up and the warm-up (BENCHMARKS.md
//! quotes these counts, which do not move with the machine's load as nanoseconds do).
//!
//! Each hash seed is random per process, so a count moves a little from run to run; over a
//! window of 1 000 000 calls, by 1-2 % (over 100 000, the warm-up's share of that noise could
//! reach ±100 instructions a zipf call). Modes, each with a cache of its own (capacity 10 000):
//!
//! - `hit_u64`, `hit_str`, `hit_ttl`: hits over 64 keys (`u64`, `&str`, `u64` with a `ttl`);
//! - `async_hit`: hits of an `async fn` over 1 024 keys, polled by a no-op waker;
//! - `miss`, `miss_lru`: every key new in a full cache (`lru`: a hand-written
//!   `Mutex<lru::LruCache>`, as in `benches/hit.rs`);
//! - `zipf`, `zipf_lru`: the seeded Zipf(1.0) sequence of `benches/hit.rs` (100 000 keys),
//!   one pass to fill, then its calls in turn;
//! - `all_hits`, `all_hits_lru`: hits at random over 8 000 keys, most of which move their entry.

use memocache::cached;

mod keys;
use keys::mix;
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::{LazyLock, Mutex};

fn work(n: u64) -> u64 {
    black_box(n.wrapping_mul(31))
}

#[cached(capacity = 10_000)]
fn hit_u64(n: u64) -> u64 {
    work(n)
}

#[cached(capacity = 10_000)]
fn hit_str(s: &str) -> std::sync::Arc<String> {
    std::sync::Arc::new(s.to_uppercase())
}

#[cached(capacity = 10_000, ttl = "5m")]
fn hit_ttl(n: u64) -> u64 {
    work(n)
}

#[cached(capacity = 10_000)]
async fn async_hit(n: u64) -> u64 {
    work(n)
}

#[cached(capacity = 10_000)]
fn miss(n: u64) -> u64 {
    work(n)
}

#[cached(capacity = 10_000)]
fn zipf(n: u64) -> u64 {
    work(n)
}

#[cached(capacity = 10_000)]
fn all_hits(n: u64) -> u64 {
    work(n)
}

type Lru = LazyLock<Mutex<lru::LruCache<u64, u64>>>;

fn new_lru() -> Mutex<lru::LruCache<u64, u64>> {
    Mutex::new(lru::LruCache::new(
        NonZeroUsize::new(10_000).expect("10 000"),
    ))
}

static LRU: Lru = LazyLock::new(new_lru);

/// The baseline of `benches/hit.rs`: lock, `get`; on a miss unlock, run, lock, `put`.
fn lru_call(n: u64) -> u64 {
    let cache = &*LRU;
    if let Some(v) = cache.lock().expect("not poisoned").get(&n) {
        return *v;
    }
    let v = work(n);
    cache.lock().expect("not poisoned").put(n, v);
    v
}

/// Polls a future to its end with a waker that does nothing: a hit is ready at once.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Warms `f` up over `keys` (three passes), then calls it `n` times over them in turn.
fn hits(keys: &[u64], n: u64, f: impl Fn(u64) -> u64) -> u64 {
    let mut acc = 0u64;
    for _ in 0..3 {
        for &k in keys {
            acc = acc.wrapping_add(f(k));
        }
    }
    for i in 0..n {
        let k = keys[usize::try_from(i).expect("64-bit") % keys.len()];
        acc = acc.wrapping_add(f(black_box(k)));
    }
    acc
}

/// Fills `f`'s cache with 20 000 keys, then calls it `n` times with keys never seen.
fn misses(n: u64, f: impl Fn(u64) -> u64) -> u64 {
    let mut acc = (0..20_000).fold(0u64, |a, k| a.wrapping_add(f(k)));
    for i in 0..n {
        acc = acc.wrapping_add(f(black_box(1_000_000 + i)));
    }
    acc
}

/// One pass over the Zipf sequence, then `n` of its calls in turn.
fn zipf_calls(n: u64, f: impl Fn(u64) -> u64) -> u64 {
    let seq = keys::zipf();
    let mut acc = seq.iter().fold(0u64, |a, &k| a.wrapping_add(f(k)));
    for i in 0..n {
        let k = seq[usize::try_from(i).expect("64-bit") % seq.len()];
        acc = acc.wrapping_add(f(black_box(k)));
    }
    acc
}

/// Hits at random over 8 000 keys (three passes to warm up).
fn random_hits(n: u64, f: impl Fn(u64) -> u64) -> u64 {
    let keys: Vec<u64> = (0..8_000).map(mix).collect();
    let mut acc = 0u64;
    for _ in 0..3 {
        for &k in &keys {
            acc = acc.wrapping_add(f(k));
        }
    }
    for i in 0..n {
        let k = keys[usize::try_from(mix(i) % 8_000).expect("small")];
        acc = acc.wrapping_add(f(black_box(k)));
    }
    acc
}

fn main() {
    // `cargo bench` passes `--bench`: the mode and count are the other arguments.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (Some(mode), Some(n)) = (args.first(), args.get(1).and_then(|n| n.parse().ok())) else {
        eprintln!(
            "usage: probe MODE CALLS (run under callgrind by benches/probe.sh); modes: hit_u64 \
             hit_str hit_ttl async_hit miss miss_lru zipf zipf_lru all_hits all_hits_lru"
        );
        return;
    };
    let u64_keys: Vec<u64> = (0..64).collect();
    let acc = match mode.as_str() {
        "hit_u64" => hits(&u64_keys, n, hit_u64),
        "hit_ttl" => hits(&u64_keys, n, hit_ttl),
        "hit_str" => {
            let keys: Vec<String> = (0..64).map(|i| format!("key-{i}")).collect();
            let f = |i: u64| hit_str(&keys[usize::try_from(i).expect("small")]).len() as u64;
            hits(&u64_keys, n, f)
        }
        "async_hit" => {
            let keys: Vec<u64> = (0..1_024).map(mix).collect();
            hits(&keys, n, |k| block_on(async_hit(k)))
        }
        "miss" => misses(n, miss),
        "miss_lru" => misses(n, lru_call),
        "zipf" => zipf_calls(n, zipf),
        "zipf_lru" => zipf_calls(n, lru_call),
        "all_hits" => random_hits(n, all_hits),
        "all_hits_lru" => random_hits(n, lru_call),
        other => {
            eprintln!("probe: no mode {other:?}");
            std::process::exit(2);
        }
    };
    println!("{acc}");
}
