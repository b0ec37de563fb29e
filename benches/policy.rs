//! Hit ratios of the eviction policies, side by side with the other caches (issue 13;
//! results in BENCHMARKS.md, "Eviction policy"). A plain `main` that prints a table:
//! `cargo bench --bench policy` (about a minute on 2 cores).
//!
//! Every comparator memoizes the same `u64 -> u64` function; a body that runs is a miss,
//! counted the same way for all. The workloads (single thread, seeded, identical for all):
//!
//! - `zipf`: Zipf(1.0) over 100 000 keys, capacity 10 000: one pass of 2^20 calls to fill,
//!   then the hit ratio and the ns per call of a second pass over the same calls.
//! - `two_pass`: 200 000 distinct keys into `capacity = 200_000`, then the same keys again:
//!   the share of the second pass that hits.
//! - `scan`: a hot set of 5 000 keys in a 10 000-entry cache, called twice each to warm;
//!   then 1 000 000 one-time keys with a call to a uniformly random hot key after every
//!   second one: the hot calls' hit ratio.
//! - `loop`: 12 000 keys called in the same order 10 times through 10 000 entries: the hit
//!   ratio of passes 2-10.
//!
//! The ns per call of `two_pass`, `scan` and `loop` are over all their calls (hits and
//! misses, warming included). One run each: read them as ±20 % on a shared machine.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

mod keys;
use keys::mix;

/// Bodies that ran, all comparators together.
static BODY_CALLS: AtomicU64 = AtomicU64::new(0);

fn work(x: u64) -> u64 {
    BODY_CALLS.fetch_add(1, Ordering::Relaxed);
    mix(x ^ 0xA5A5)
}

fn body_calls() -> u64 {
    BODY_CALLS.load(Ordering::Relaxed)
}

/// Each workload's memoized functions, one per workload so that each starts empty.
macro_rules! memoized {
    ($attr:path, $mod:ident, $small:tt, $large:tt) => {
        mod $mod {
            use super::work;
            #[$attr $small]
            pub fn zipf(x: u64) -> u64 {
                work(x)
            }
            #[$attr $large]
            pub fn two_pass(x: u64) -> u64 {
                work(x)
            }
            #[$attr $small]
            pub fn scan(x: u64) -> u64 {
                work(x)
            }
            #[$attr $small]
            pub fn looped(x: u64) -> u64 {
                work(x)
            }
        }
    };
}

memoized!(
    memocache::cached,
    memo,
    (capacity = 10_000),
    (capacity = 200_000)
);
memoized!(
    memocache::cached,
    memo_lru,
    (capacity = 10_000, eviction = "lru"),
    (capacity = 200_000, eviction = "lru")
);
memoized!(
    cached::proc_macro::cached,
    cach,
    (max_size = 10_000),
    (max_size = 200_000)
);

/// A workload's calls, to run through one comparator's function.
trait Workload {
    const NAME: &'static str;
    const CAPACITY: usize;
    /// Runs the workload through `f`: (hit ratio, ns per call).
    fn run(&self, f: &dyn Fn(u64) -> u64) -> (f64, f64);
}

struct Zipf(Vec<u64>);

impl Zipf {
    fn new() -> Self {
        Zipf(keys::zipf())
    }
}

impl Workload for Zipf {
    const NAME: &'static str = "zipf";
    const CAPACITY: usize = 10_000;
    fn run(&self, f: &dyn Fn(u64) -> u64) -> (f64, f64) {
        for &k in &self.0 {
            black_box(f(k));
        }
        let before = body_calls();
        let start = Instant::now();
        for &k in &self.0 {
            black_box(f(black_box(k)));
        }
        let ns = start.elapsed().as_nanos() as f64 / self.0.len() as f64;
        let misses = body_calls() - before;
        (1.0 - misses as f64 / self.0.len() as f64, ns)
    }
}

struct TwoPass;

impl Workload for TwoPass {
    const NAME: &'static str = "two_pass";
    const CAPACITY: usize = 200_000;
    fn run(&self, f: &dyn Fn(u64) -> u64) -> (f64, f64) {
        let start = Instant::now();
        for k in 0..200_000 {
            black_box(f(mix(k)));
        }
        let before = body_calls();
        for k in 0..200_000 {
            black_box(f(mix(k)));
        }
        let ns = start.elapsed().as_nanos() as f64 / 400_000.0;
        (1.0 - (body_calls() - before) as f64 / 200_000.0, ns)
    }
}

struct Scan;

impl Workload for Scan {
    const NAME: &'static str = "scan";
    const CAPACITY: usize = 10_000;
    fn run(&self, f: &dyn Fn(u64) -> u64) -> (f64, f64) {
        let hot = |r: u64| mix(r % 5_000);
        let start = Instant::now();
        for _ in 0..2 {
            for r in 0..5_000 {
                black_box(f(hot(r)));
            }
        }
        let (mut state, mut hot_misses, mut calls) = (0x5CA7_u64, 0, 10_000);
        for i in 0..1_000_000_u64 {
            black_box(f(mix(1 << 40 | i)));
            calls += 1;
            if i % 2 == 1 {
                state = mix(state);
                let before = body_calls();
                black_box(f(hot(state)));
                hot_misses += body_calls() - before;
                calls += 1;
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / calls as f64;
        (1.0 - hot_misses as f64 / 500_000.0, ns)
    }
}

struct Loop;

impl Workload for Loop {
    const NAME: &'static str = "loop";
    const CAPACITY: usize = 10_000;
    fn run(&self, f: &dyn Fn(u64) -> u64) -> (f64, f64) {
        let start = Instant::now();
        let mut before = 0;
        for pass in 0..10 {
            if pass == 1 {
                before = body_calls();
            }
            for k in 0..12_000 {
                black_box(f(mix(k)));
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / 120_000.0;
        (1.0 - (body_calls() - before) as f64 / 108_000.0, ns)
    }
}

/// One workload through every comparator; rows of (workload, crate, hit ratio, ns).
fn compare<W: Workload>(
    w: &W,
    only: &str,
    memo: fn(u64) -> u64,
    memo_lru: fn(u64) -> u64,
    cach: fn(u64) -> u64,
) -> Vec<(&'static str, &'static str, f64, f64)> {
    let cap = W::CAPACITY;
    let mut rows = Vec::new();
    let mut one = |name: &'static str, f: &dyn Fn(u64) -> u64| {
        if only.is_empty() || only == name {
            rows.push((name, w.run(f)));
        }
    };
    one("memocache", &memo);
    one("memocache_lru", &memo_lru);
    one("cached", &cach);
    let moka = moka::sync::Cache::new(cap as u64);
    one("moka", &|x| moka.get_with(x, || work(x)));
    drop(moka);
    let quick = quick_cache::sync::Cache::new(cap);
    one("quick_cache", &|x| match quick
        .get_or_insert_with(&x, || Ok::<_, std::convert::Infallible>(work(x)))
    {
        Ok(v) => v,
        Err(never) => match never {},
    });
    drop(quick);
    let lru = Mutex::new(lru::LruCache::new(NonZeroUsize::new(cap).unwrap()));
    one("lru_mutex", &|x| {
        if let Some(&v) = lru.lock().unwrap().get(&x) {
            return v;
        }
        let v = work(x);
        lru.lock().unwrap().put(x, v);
        v
    });
    rows.into_iter()
        .map(|(name, (ratio, ns))| (W::NAME, name, ratio, ns))
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; a filter (`cargo bench --bench policy -- scan`) picks
    // the workloads whose name contains it, a second one (`-- zipf memocache`) one crate.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let filter = args.first().cloned().unwrap_or_default();
    let only = args.get(1).map_or("", String::as_str);
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before: {}", load().trim());
    let mut rows = Vec::new();
    let wanted = |name: &str| name.contains(filter.as_str());
    if wanted(Zipf::NAME) {
        rows.extend(compare(
            &Zipf::new(),
            only,
            memo::zipf,
            memo_lru::zipf,
            cach::zipf,
        ));
    }
    if wanted(TwoPass::NAME) {
        let (m, l, c) = (memo::two_pass, memo_lru::two_pass, cach::two_pass);
        rows.extend(compare(&TwoPass, only, m, l, c));
    }
    if wanted(Scan::NAME) {
        rows.extend(compare(&Scan, only, memo::scan, memo_lru::scan, cach::scan));
    }
    if wanted(Loop::NAME) {
        let (m, l, c) = (memo::looped, memo_lru::looped, cach::looped);
        rows.extend(compare(&Loop, only, m, l, c));
    }
    println!("\n| workload | crate | hit ratio | ns / call |\n|---|---|---:|---:|");
    for (w, name, ratio, ns) in &rows {
        println!("| {w} | {name} | {ratio:.4} | {ns:.1} |");
    }
    println!("\nload average after: {}", load().trim());
}
