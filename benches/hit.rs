//! memocache's hit path side by side with other Rust caches (issue 4; results in BENCHMARKS.md).
//!
//! Every comparator memoizes the same function the way its own docs show a user would:
//!
//! | id | how |
//! |---|---|
//! | `memocache` | `#[memocache::cached(capacity = 10_000)]` |
//! | `cached` | `#[cached::proc_macro::cached(max_size = 10_000)]` (4.x) |
//! | `memoize` | `#[memoize(SharedCache, Capacity: 10_000)]` (0.6) |
//! | `moka` | a `static` `moka::sync::Cache`, `get_with` (`get_with_by_ref` for `&str`) |
//! | `quick_cache` | a `static` `quick_cache::sync::Cache`, `get_or_insert_with` |
//! | `lru_mutex` | the plain baseline: a `static Mutex<lru::LruCache>`, get or put |
//!
//! Scenarios (criterion groups): `hit_u64` (plus `memocache_method`: the same function as a
//! `&self` method), `hit_str` (and heap allocations per hit, counted
//! by this file's global allocator), `hit_ttl`, `zipf` (ns per call and hit ratio), `threads`
//! (total calls per second from 1, 2, 4 .. N threads) and `async_hit`.
//!
//! Run everything with `cargo bench --bench hit`, one scenario with `cargo bench --bench hit
//! -- zipf`. Besides criterion's own output, the allocation counts and the hit ratios are
//! printed and written to `target/bench-extra/*.json` for `benches/plot.py`.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

mod keys;
use keys::{ZIPF_KEYS, ZIPF_LEN, mix};

// ---------------------------------------------------------------------------------------------
// Counting allocator: heap allocations of the calling thread (for `hit_str`).
// ---------------------------------------------------------------------------------------------

/// Forwards to the system allocator and counts allocations per thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// `const`-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: `ptr` came from this allocator (so from `System`) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// ---------------------------------------------------------------------------------------------
// The memoized functions' bodies, shared by every comparator.
// ---------------------------------------------------------------------------------------------

/// How many times a body ran, all comparators together: misses are counted here, the same
/// way for every crate (the hit ratio of `zipf`, and the "all hits" checks).
static BODY_CALLS: AtomicU64 = AtomicU64::new(0);

const CAPACITY: usize = 10_000;
/// Distinct keys of the all-hit scenarios.
const WARM_KEYS: usize = 1024;

fn body_calls() -> u64 {
    BODY_CALLS.load(Ordering::Relaxed)
}

/// The body of every `u64 -> u64` function: cheap, so that a miss costs the cache's own
/// miss path (insert, evict) rather than the body.
fn work(x: u64) -> u64 {
    BODY_CALLS.fetch_add(1, Ordering::Relaxed);
    mix(x ^ 0xA5A5)
}

/// The body of every `&str -> Arc<String>` function.
fn work_str(s: &str) -> Arc<String> {
    BODY_CALLS.fetch_add(1, Ordering::Relaxed);
    Arc::new(format!("value of {s}"))
}

/// The next index of a ring of `len` keys (a compare, not a division: a hit costs a few ns).
#[inline(always)]
fn next(i: usize, len: usize) -> usize {
    if i + 1 == len { 0 } else { i + 1 }
}

fn warm_u64_keys() -> Vec<u64> {
    (0..WARM_KEYS as u64).map(mix).collect()
}

fn warm_str_keys() -> Vec<String> {
    (0..WARM_KEYS as u64)
        .map(|i| format!("user:{:016x}", mix(i)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Comparators. One module per crate, each function written the way that crate's docs show.
// ---------------------------------------------------------------------------------------------

mod memo {
    use super::{CAPACITY, work, work_str};
    use memocache::cached;
    use std::sync::Arc;

    #[cached(capacity = 10_000)]
    pub fn hit_u64(x: u64) -> u64 {
        work(x)
    }

    #[cached(capacity = 10_000)]
    pub fn hit_str(s: &str) -> Arc<String> {
        work_str(s)
    }

    #[cached(capacity = 10_000, ttl = "5m")]
    pub fn hit_ttl(x: u64) -> u64 {
        work(x)
    }

    #[cached(capacity = CAPACITY)]
    pub fn zipf(x: u64) -> u64 {
        work(x)
    }

    #[cached(capacity = 10_000)]
    pub async fn async_hit(x: u64) -> u64 {
        work(x)
    }

    /// The same function as a `&self` method: its cache is found per `Self` type at run
    /// time (a method of a generic `impl` has one per type), which `hit_u64/memocache_method`
    /// measures against the free function's `static`.
    pub struct Repo;

    impl Repo {
        #[cached(capacity = 10_000)]
        pub fn hit_u64(&self, x: u64) -> u64 {
            work(x)
        }
    }
}

mod cach {
    use super::{work, work_str};
    use cached::proc_macro::cached;
    use std::sync::Arc;

    #[cached(max_size = 10_000)]
    pub fn hit_u64(x: u64) -> u64 {
        work(x)
    }

    #[cached(max_size = 10_000)]
    pub fn hit_str(s: &str) -> Arc<String> {
        work_str(s)
    }

    #[cached(max_size = 10_000, ttl_secs = 300)]
    pub fn hit_ttl(x: u64) -> u64 {
        work(x)
    }

    #[cached(max_size = 10_000)]
    pub fn zipf(x: u64) -> u64 {
        work(x)
    }

    #[cached(max_size = 10_000)]
    pub async fn async_hit(x: u64) -> u64 {
        work(x)
    }
}

mod memz {
    use super::{work, work_str};
    use memoize::memoize;
    use std::sync::Arc;
    use std::time::Duration;

    #[memoize(SharedCache, Capacity: 10_000)]
    pub fn hit_u64(x: u64) -> u64 {
        work(x)
    }

    /// memoize keys on owned, `'static` arguments: the function takes a `String`.
    #[memoize(SharedCache, Capacity: 10_000)]
    pub fn hit_str(s: String) -> Arc<String> {
        work_str(&s)
    }

    #[memoize(SharedCache, Capacity: 10_000, TimeToLive: Duration::from_secs(300))]
    pub fn hit_ttl(x: u64) -> u64 {
        work(x)
    }

    #[memoize(SharedCache, Capacity: 10_000)]
    pub fn zipf(x: u64) -> u64 {
        work(x)
    }
}

mod mok {
    use super::{CAPACITY, work, work_str};
    use moka::sync::Cache;
    use std::sync::{Arc, LazyLock};
    use std::time::Duration;

    static HIT_U64: LazyLock<Cache<u64, u64>> = LazyLock::new(|| Cache::new(CAPACITY as u64));
    static HIT_STR: LazyLock<Cache<String, Arc<String>>> =
        LazyLock::new(|| Cache::new(CAPACITY as u64));
    static HIT_TTL: LazyLock<Cache<u64, u64>> = LazyLock::new(|| {
        Cache::builder()
            .max_capacity(CAPACITY as u64)
            .time_to_live(Duration::from_secs(300))
            .build()
    });
    static ZIPF: LazyLock<Cache<u64, u64>> = LazyLock::new(|| Cache::new(CAPACITY as u64));
    static ASYNC_HIT: LazyLock<moka::future::Cache<u64, u64>> =
        LazyLock::new(|| moka::future::Cache::new(CAPACITY as u64));

    pub fn hit_u64(x: u64) -> u64 {
        HIT_U64.get_with(x, || work(x))
    }

    pub fn hit_str(s: &str) -> Arc<String> {
        HIT_STR.get_with_by_ref(s, || work_str(s))
    }

    pub fn hit_ttl(x: u64) -> u64 {
        HIT_TTL.get_with(x, || work(x))
    }

    pub fn zipf(x: u64) -> u64 {
        ZIPF.get_with(x, || work(x))
    }

    pub async fn async_hit(x: u64) -> u64 {
        ASYNC_HIT.get_with(x, async move { work(x) }).await
    }
}

mod quick {
    use super::{CAPACITY, work, work_str};
    use quick_cache::sync::Cache;
    use std::convert::Infallible;
    use std::sync::{Arc, LazyLock};

    static HIT_U64: LazyLock<Cache<u64, u64>> = LazyLock::new(|| Cache::new(CAPACITY));
    static HIT_STR: LazyLock<Cache<String, Arc<String>>> = LazyLock::new(|| Cache::new(CAPACITY));
    static ZIPF: LazyLock<Cache<u64, u64>> = LazyLock::new(|| Cache::new(CAPACITY));

    fn ok<T>(r: Result<T, Infallible>) -> T {
        match r {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    pub fn hit_u64(x: u64) -> u64 {
        ok(HIT_U64.get_or_insert_with(&x, || Ok(work(x))))
    }

    pub fn hit_str(s: &str) -> Arc<String> {
        ok(HIT_STR.get_or_insert_with(s, || Ok(work_str(s))))
    }

    pub fn zipf(x: u64) -> u64 {
        ok(ZIPF.get_or_insert_with(&x, || Ok(work(x))))
    }
}

/// The plain baseline: what one writes by hand with the `lru` crate and a `std` mutex.
mod baseline {
    use super::{CAPACITY, work, work_str};
    use lru::LruCache;
    use std::hash::Hash;
    use std::num::NonZeroUsize;
    use std::sync::{Arc, LazyLock, Mutex};
    use std::time::{Duration, Instant};

    type Memo<K, V> = LazyLock<Mutex<LruCache<K, V>>>;

    fn new_lru<K: Hash + Eq, V>() -> Mutex<LruCache<K, V>> {
        Mutex::new(LruCache::new(NonZeroUsize::new(CAPACITY).unwrap()))
    }

    static HIT_U64: Memo<u64, u64> = LazyLock::new(new_lru);
    static HIT_STR: Memo<String, Arc<String>> = LazyLock::new(new_lru);
    static HIT_TTL: Memo<u64, (Instant, u64)> = LazyLock::new(new_lru);
    static ZIPF: Memo<u64, u64> = LazyLock::new(new_lru);

    const TTL: Duration = Duration::from_secs(300);

    fn memo_u64(cache: &Mutex<LruCache<u64, u64>>, x: u64) -> u64 {
        if let Some(v) = cache.lock().unwrap().get(&x) {
            return *v;
        }
        let v = work(x);
        cache.lock().unwrap().put(x, v);
        v
    }

    pub fn hit_u64(x: u64) -> u64 {
        memo_u64(&HIT_U64, x)
    }

    pub fn zipf(x: u64) -> u64 {
        memo_u64(&ZIPF, x)
    }

    pub fn hit_str(s: &str) -> Arc<String> {
        if let Some(v) = HIT_STR.lock().unwrap().get(s) {
            return Arc::clone(v);
        }
        let v = work_str(s);
        HIT_STR.lock().unwrap().put(s.to_owned(), Arc::clone(&v));
        v
    }

    pub fn hit_ttl(x: u64) -> u64 {
        if let Some(&(at, v)) = HIT_TTL.lock().unwrap().get(&x)
            && at.elapsed() < TTL
        {
            return v;
        }
        let v = work(x);
        HIT_TTL.lock().unwrap().put(x, (Instant::now(), v));
        v
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers.
// ---------------------------------------------------------------------------------------------

/// Where the numbers criterion does not keep go (allocations, hit ratios).
fn extra_dir() -> std::path::PathBuf {
    // The workspace's target directory: this package's directory is benches/.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    std::path::PathBuf::from(target).join("bench-extra")
}

/// Writes `{"name": value, ...}` (values already formatted as JSON numbers).
fn write_json(file: &str, rows: &[(&str, String)]) {
    let body: Vec<String> = rows
        .iter()
        .map(|(k, v)| format!("  \"{k}\": {v}"))
        .collect();
    let dir = extra_dir();
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(file), format!("{{\n{}\n}}\n", body.join(",\n"))));
    if let Err(e) = written {
        eprintln!("could not write {}: {e}", dir.join(file).display());
    }
}

/// Runs `timed` and complains loudly if a body ran: an "all hits" scenario that misses
/// measures something else.
fn expect_all_hits(scenario: &str, name: &str, timed: impl FnOnce()) {
    let before = body_calls();
    timed();
    let misses = body_calls() - before;
    if misses != 0 {
        println!("WARNING {scenario}/{name}: {misses} misses during an all-hits run");
    }
}

fn bench_u64<F: Fn(u64) -> u64>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    scenario: &str,
    name: &str,
    keys: &[u64],
    f: F,
) {
    for &k in keys {
        f(k);
    }
    expect_all_hits(scenario, name, || {
        g.bench_function(name, |b| {
            let mut i = 0;
            b.iter(|| {
                i = next(i, keys.len());
                f(black_box(keys[i]))
            });
        });
    });
}

// ---------------------------------------------------------------------------------------------
// Scenarios.
// ---------------------------------------------------------------------------------------------

fn hit_u64(c: &mut Criterion) {
    let keys = warm_u64_keys();
    let mut g = c.benchmark_group("hit_u64");
    g.throughput(Throughput::Elements(1));
    bench_u64(&mut g, "hit_u64", "memocache", &keys, memo::hit_u64);
    bench_u64(&mut g, "hit_u64", "memocache_method", &keys, |k| {
        memo::Repo.hit_u64(k)
    });
    bench_u64(&mut g, "hit_u64", "cached", &keys, cach::hit_u64);
    bench_u64(&mut g, "hit_u64", "memoize", &keys, memz::hit_u64);
    bench_u64(&mut g, "hit_u64", "moka", &keys, mok::hit_u64);
    bench_u64(&mut g, "hit_u64", "quick_cache", &keys, quick::hit_u64);
    bench_u64(&mut g, "hit_u64", "lru_mutex", &keys, baseline::hit_u64);
    g.finish();
}

fn hit_ttl(c: &mut Criterion) {
    let keys = warm_u64_keys();
    let mut g = c.benchmark_group("hit_ttl");
    g.throughput(Throughput::Elements(1));
    bench_u64(&mut g, "hit_ttl", "memocache", &keys, memo::hit_ttl);
    bench_u64(&mut g, "hit_ttl", "cached", &keys, cach::hit_ttl);
    bench_u64(&mut g, "hit_ttl", "memoize", &keys, memz::hit_ttl);
    bench_u64(&mut g, "hit_ttl", "moka", &keys, mok::hit_ttl);
    // quick_cache has no expiry: it has no row here.
    bench_u64(&mut g, "hit_ttl", "lru_mutex", &keys, baseline::hit_ttl);
    g.finish();
}

/// Heap allocations per call of `f` over warm keys (single thread, after a warm pass).
fn allocations_per_hit<F: Fn(&str) -> Arc<String>>(keys: &[String], f: &F) -> f64 {
    for k in keys {
        black_box(f(k));
    }
    const ROUNDS: usize = 100;
    let before = allocations();
    for _ in 0..ROUNDS {
        for k in keys {
            black_box(f(black_box(k)));
        }
    }
    (allocations() - before) as f64 / (ROUNDS * keys.len()) as f64
}

fn hit_str(c: &mut Criterion) {
    let keys = warm_str_keys();
    // memoize takes owned arguments: its call site builds the `String`, as its users write it.
    let memoize_call = |s: &str| memz::hit_str(s.to_owned());

    let counts = [
        ("memocache", allocations_per_hit(&keys, &memo::hit_str)),
        ("cached", allocations_per_hit(&keys, &cach::hit_str)),
        ("memoize", allocations_per_hit(&keys, &memoize_call)),
        ("moka", allocations_per_hit(&keys, &mok::hit_str)),
        ("quick_cache", allocations_per_hit(&keys, &quick::hit_str)),
        ("lru_mutex", allocations_per_hit(&keys, &baseline::hit_str)),
    ];
    println!("\nhit_str: heap allocations per hit (counting allocator, 102400 hits each)");
    for (name, n) in &counts {
        println!("  {name:<12} {n:.2}");
    }
    println!();
    let rows: Vec<(&str, String)> = counts.iter().map(|(n, v)| (*n, format!("{v}"))).collect();
    write_json("hit_str_allocations.json", &rows);

    let mut g = c.benchmark_group("hit_str");
    g.throughput(Throughput::Elements(1));
    fn one<F: Fn(&str) -> Arc<String>>(
        g: &mut BenchmarkGroup<'_, WallTime>,
        name: &str,
        keys: &[String],
        f: F,
    ) {
        expect_all_hits("hit_str", name, || {
            g.bench_function(name, |b| {
                let mut i = 0;
                b.iter(|| {
                    i = next(i, keys.len());
                    f(black_box(keys[i].as_str()))
                });
            });
        });
    }
    one(&mut g, "memocache", &keys, memo::hit_str);
    one(&mut g, "cached", &keys, cach::hit_str);
    one(&mut g, "memoize", &keys, memoize_call);
    one(&mut g, "moka", &keys, mok::hit_str);
    one(&mut g, "quick_cache", &keys, quick::hit_str);
    one(&mut g, "lru_mutex", &keys, baseline::hit_str);
    g.finish();
}

/// One pass over the sequence to fill the cache, then the hit ratio of a second pass.
fn hit_ratio<F: Fn(u64) -> u64>(seq: &[u64], f: &F) -> f64 {
    for &k in seq {
        black_box(f(k));
    }
    let before = body_calls();
    for &k in seq {
        black_box(f(k));
    }
    1.0 - (body_calls() - before) as f64 / seq.len() as f64
}

fn zipf(c: &mut Criterion) {
    let seq = keys::zipf();
    let ratios = [
        ("memocache", hit_ratio(&seq, &memo::zipf)),
        ("cached", hit_ratio(&seq, &cach::zipf)),
        ("memoize", hit_ratio(&seq, &memz::zipf)),
        ("moka", hit_ratio(&seq, &mok::zipf)),
        ("quick_cache", hit_ratio(&seq, &quick::zipf)),
        ("lru_mutex", hit_ratio(&seq, &baseline::zipf)),
    ];
    println!(
        "\nzipf: hit ratio (s = 1.0, {ZIPF_KEYS} keys, capacity {CAPACITY}, \
         second pass over {ZIPF_LEN} seeded calls)"
    );
    for (name, r) in &ratios {
        println!("  {name:<12} {r:.4}");
    }
    println!();
    let rows: Vec<(&str, String)> = ratios.iter().map(|(n, v)| (*n, format!("{v}"))).collect();
    write_json("zipf_hit_ratio.json", &rows);

    let mut g = c.benchmark_group("zipf");
    g.throughput(Throughput::Elements(1));
    fn one<F: Fn(u64) -> u64>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, seq: &[u64], f: F) {
        g.bench_function(name, |b| {
            let mut i = 0;
            b.iter(|| {
                i = next(i, seq.len());
                f(black_box(seq[i]))
            });
        });
    }
    one(&mut g, "memocache", &seq, memo::zipf);
    one(&mut g, "cached", &seq, cach::zipf);
    one(&mut g, "memoize", &seq, memz::zipf);
    one(&mut g, "moka", &seq, mok::zipf);
    one(&mut g, "quick_cache", &seq, quick::zipf);
    one(&mut g, "lru_mutex", &seq, baseline::zipf);
    g.finish();
}

/// Calls per thread in one criterion iteration of `threads`.
const CALLS_PER_THREAD: u64 = 10_000;

/// 1, 2, 4 .. up to the available cores, and the core count itself if not a power of two.
fn thread_counts() -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut counts: Vec<usize> = std::iter::successors(Some(1usize), |t| Some(t * 2))
        .take_while(|&t| t <= cores)
        .collect();
    if counts.last() != Some(&cores) {
        counts.push(cores);
    }
    counts
}

/// `threads` threads, each making `iters * CALLS_PER_THREAD` hits; the wall time from the
/// moment they are all released until the last one is done.
fn run_threads<F: Fn(u64) -> u64 + Sync>(
    threads: usize,
    iters: u64,
    keys: &[u64],
    f: &F,
) -> Duration {
    let barrier = Barrier::new(threads + 1);
    let start = std::thread::scope(|s| {
        for t in 0..threads {
            let barrier = &barrier;
            s.spawn(move || {
                let mut i = t * 389;
                barrier.wait();
                for _ in 0..iters * CALLS_PER_THREAD {
                    i = next(i, keys.len());
                    black_box(f(black_box(keys[i])));
                }
            });
        }
        barrier.wait();
        Instant::now()
    });
    start.elapsed()
}

fn threads(c: &mut Criterion) {
    let keys = warm_u64_keys();
    for &k in &keys {
        memo::hit_u64(k);
        cach::hit_u64(k);
        memz::hit_u64(k);
        mok::hit_u64(k);
        quick::hit_u64(k);
        baseline::hit_u64(k);
    }
    let mut g = c.benchmark_group("threads");
    fn one<F: Fn(u64) -> u64 + Sync>(
        g: &mut BenchmarkGroup<'_, WallTime>,
        name: &str,
        threads: usize,
        keys: &[u64],
        f: F,
    ) {
        expect_all_hits("threads", name, || {
            g.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &t| {
                b.iter_custom(|iters| run_threads(t, iters, keys, &f));
            });
        });
    }
    for t in thread_counts() {
        g.throughput(Throughput::Elements(t as u64 * CALLS_PER_THREAD));
        one(&mut g, "memocache", t, &keys, memo::hit_u64);
        one(&mut g, "cached", t, &keys, cach::hit_u64);
        one(&mut g, "memoize", t, &keys, memz::hit_u64);
        one(&mut g, "moka", t, &keys, mok::hit_u64);
        one(&mut g, "quick_cache", t, &keys, quick::hit_u64);
        one(&mut g, "lru_mutex", t, &keys, baseline::hit_u64);
    }
    g.finish();
}

fn async_hit(c: &mut Criterion) {
    let keys = warm_u64_keys();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread tokio runtime");
    rt.block_on(async {
        for &k in &keys {
            memo::async_hit(k).await;
            cach::async_hit(k).await;
            mok::async_hit(k).await;
        }
    });
    let mut g = c.benchmark_group("async_hit");
    g.throughput(Throughput::Elements(1));
    macro_rules! one {
        ($name:literal, $f:path) => {
            expect_all_hits("async_hit", $name, || {
                g.bench_function($name, |b| {
                    let mut i = 0;
                    b.to_async(&rt).iter(|| {
                        i = next(i, keys.len());
                        $f(black_box(keys[i]))
                    });
                });
            });
        };
    }
    one!("memocache", memo::async_hit);
    one!("cached", cach::async_hit);
    one!("moka", mok::async_hit);
    g.finish();
}

/// Short by default (the whole suite in a few minutes on 2 cores); criterion's command-line
/// options (`--measurement-time`, `--sample-size`, ...) override these.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = hit_u64, hit_str, hit_ttl, zipf, threads, async_hit
}

/// The load average, printed before and after the run: on a shared 2-core machine a
/// concurrent build skews the `threads` rows first.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(|_| "?".into(), |l| l.trim().into())
}

/// `criterion_main!(benches)`, plus the load average around the run.
fn main() {
    let before = load();
    println!("load average before: {before}");
    benches();
    Criterion::default().configure_from_args().final_summary();
    let after = load();
    println!("load average after: {after}");
    write_json(
        "hit_run.json",
        &[
            ("load_before", format!("\"{before}\"")),
            ("load_after", format!("\"{after}\"")),
        ],
    );
}
