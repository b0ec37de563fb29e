//! The `threads × caches` scenario of `benches/memory.rs` (issue 13, goal 5): 50 caches of
//! 2 000 `u64 -> u64` entries each, read over and over by 1, 2, 4, 8 and 16 threads. What do
//! the threads add to the memory of the entries? memocache's threads keep copies of what they
//! read; the comparators keep no per-thread state, so their figure is their entries.
//!
//! Each comparator runs in a child process of its own (this binary, with
//! `MEMOCACHE_BENCH_THREADS=<name>`), so that its VmRSS owes nothing to another's. The child
//! fills the caches from its main thread (2 000 misses each), counts the live heap bytes and
//! reads VmRSS; then, for each pattern and thread count, the threads read the caches and
//! wait; while they wait, live bytes and VmRSS are read again, and the threads end before the
//! next run starts. The patterns:
//!
//! - `spread`: every key of every cache, [`ROUNDS`] times: key by key, each key in every
//!   cache in turn, each thread from its own starting key. No table can hold what its thread
//!   reads of a cache before it comes back to it.
//! - `hot`: cache by cache, [`HOT`] keys of each (its thread's own) [`HOT_PASSES`] times in a
//!   row: copies answer most of these calls, where there are copies.

use super::{LIVE, mix, work};
use std::convert::Infallible;
use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::sync::{Barrier, LazyLock};

/// Caches in the scenario.
pub const CACHES: usize = 50;
/// Entries per cache.
pub const KEYS: u64 = 2_000;
/// Times each thread reads every key of every cache.
const ROUNDS: usize = 4;
/// Keys of each cache a thread reads in the `hot` pattern.
const HOT: u64 = 512;
/// Passes over them in a row.
const HOT_PASSES: usize = 8;
/// The thread counts.
const THREADS: [usize; 5] = [1, 2, 4, 8, 16];
/// The comparators, by the name their child process is started with.
pub const NAMES: [&str; 4] = ["memocache", "moka", "quick_cache", "lru_mutex"];
/// The capacity of every cache: room for more than the 2 000 entries each holds.
const CAPACITY: usize = 4_096;

mod memo {
    use super::work;
    use memocache::cached;

    macro_rules! caches {
        ($($name:ident)*) => {
            $(
                #[cached(capacity = 4_096)]
                fn $name(x: u64) -> u64 {
                    work(x)
                }
            )*
            /// The 50 memoized functions.
            pub const ALL: &[fn(u64) -> u64] = &[$($name),*];
        };
    }

    caches! {
        c00 c01 c02 c03 c04 c05 c06 c07 c08 c09 c10 c11 c12 c13 c14 c15 c16 c17 c18 c19
        c20 c21 c22 c23 c24 c25 c26 c27 c28 c29 c30 c31 c32 c33 c34 c35 c36 c37 c38 c39
        c40 c41 c42 c43 c44 c45 c46 c47 c48 c49
    }
}

static MOKA: LazyLock<Vec<moka::sync::Cache<u64, u64>>> = LazyLock::new(|| {
    (0..CACHES)
        .map(|_| moka::sync::Cache::new(CAPACITY as u64))
        .collect()
});
static QUICK: LazyLock<Vec<quick_cache::sync::Cache<u64, u64>>> = LazyLock::new(|| {
    (0..CACHES)
        .map(|_| quick_cache::sync::Cache::new(CAPACITY))
        .collect()
});
type Lru = std::sync::Mutex<lru::LruCache<u64, u64>>;
static LRU: LazyLock<Vec<Lru>> = LazyLock::new(|| {
    let cap = std::num::NonZeroUsize::new(CAPACITY).unwrap();
    (0..CACHES)
        .map(|_| std::sync::Mutex::new(lru::LruCache::new(cap)))
        .collect()
});

/// A call of cache `c` of comparator `name` with key `x`.
fn call(name: &str, c: usize, x: u64) -> u64 {
    match name {
        "memocache" => memo::ALL[c](x),
        "moka" => MOKA[c].get_with(x, || work(x)),
        "quick_cache" => match QUICK[c].get_or_insert_with(&x, || Ok::<_, Infallible>(work(x))) {
            Ok(v) => v,
            Err(never) => match never {},
        },
        _ => {
            if let Some(v) = LRU[c].lock().unwrap().get(&x) {
                return *v;
            }
            let v = work(x);
            LRU[c].lock().unwrap().put(x, v);
            v
        }
    }
}

/// The process's resident set, in bytes (0 where `/proc` says nothing).
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// One comparator's run, in its child process: prints one line per thread count,
/// `name pattern threads entries_bytes live_bytes entries_rss rss mcalls_per_s`.
pub fn child(name: &str) {
    let (live0, rss0) = (live(), rss());
    for c in 0..CACHES {
        for k in 0..KEYS {
            black_box(call(name, c, mix(k)));
        }
    }
    if name == "moka" {
        MOKA.iter().for_each(moka::sync::Cache::run_pending_tasks);
    }
    let entries = live() - live0;
    let entries_rss = rss().saturating_sub(rss0);
    for pattern in ["spread", "hot"] {
        for threads in THREADS {
            run_threads(
                name,
                pattern,
                threads,
                (entries, live0),
                (entries_rss, rss0),
            );
        }
    }
}

/// One run of `threads` threads reading the caches in `pattern`; prints its line.
fn run_threads(
    name: &str,
    pattern: &str,
    threads: usize,
    (entries, live0): (isize, isize),
    (entries_rss, rss0): (usize, usize),
) {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for t in 0..threads {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                let first = t as u64 * 389;
                if pattern == "spread" {
                    for _ in 0..ROUNDS {
                        for i in 0..KEYS {
                            let k = mix((i + first) % KEYS);
                            for c in 0..CACHES {
                                black_box(call(name, c, black_box(k)));
                            }
                        }
                    }
                } else {
                    for c in 0..CACHES {
                        for _ in 0..HOT_PASSES {
                            for i in 0..HOT {
                                black_box(call(name, c, black_box(mix((i + first) % KEYS))));
                            }
                        }
                    }
                }
                // Done: held here while the main thread reads the memory.
                barrier.wait();
                barrier.wait();
            });
        }
        barrier.wait();
        let start = std::time::Instant::now();
        barrier.wait();
        let elapsed = start.elapsed();
        let (bytes, resident) = (live() - live0, rss().saturating_sub(rss0));
        let calls = if pattern == "spread" {
            (threads * ROUNDS * CACHES) as f64 * KEYS as f64
        } else {
            (threads * HOT_PASSES * CACHES) as f64 * HOT as f64
        };
        let rate = calls / elapsed.as_secs_f64() / 1e6;
        println!("{name} {pattern} {threads} {entries} {bytes} {entries_rss} {resident} {rate:.1}");
        barrier.wait();
    });
}

/// Runs every comparator (or those `filters` name) in a child process each, and prints the
/// table; returns its rows as JSON objects.
pub fn run(filters: &[String]) -> Vec<String> {
    println!(
        "threads x caches: {CACHES} caches of {KEYS} u64 -> u64 entries (capacity {CAPACITY}), \
         memory while the threads \
         are still alive, over the process's before the caches were filled\n"
    );
    println!(
        "| crate | pattern | threads | entries: heap bytes | with the threads: heap bytes | ratio | \
         entries: VmRSS | with the threads: VmRSS | ratio | M calls / s, all threads |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut json = Vec::new();
    let exe = std::env::current_exe().expect("this benchmark's own path");
    for name in NAMES {
        if !filters.is_empty() && !filters.iter().any(|w| name.contains(w.as_str())) {
            continue;
        }
        let out = std::process::Command::new(&exe)
            .env("MEMOCACHE_BENCH_THREADS", name)
            .output()
            .expect("the scenario's child process");
        if !out.status.success() {
            eprintln!(
                "{name}: the child process failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let [n, p, t, e, b, er, r, rate] = f[..] else {
                continue;
            };
            let num = |s: &str| s.parse::<f64>().unwrap_or(0.0);
            let (e, b, er, r) = (num(e), num(b), num(er), num(r));
            let mb = |x: f64| x / 1e6;
            println!(
                "| {n} | {p} | {t} | {:.2} MB | {:.2} MB | {:.2} | {:.2} MB | {:.2} MB | {:.2} | {rate} |",
                mb(e),
                mb(b),
                b / e,
                mb(er),
                mb(r),
                r / er.max(1.0),
            );
            json.push(format!(
                "  {{\"scenario\": \"threads_x_caches\", \"crate\": \"{n}\", \"pattern\": \"{p}\", \"threads\": {t}, \
                 \"entries_bytes\": {e}, \"bytes\": {b}, \"entries_rss\": {er}, \"rss\": {r}, \
                 \"mcalls_per_s\": {rate}}}"
            ));
        }
    }
    println!();
    json
}
