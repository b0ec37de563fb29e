//! Heap bytes per entry after 200_000 `u64 -> u64` inserts, for memocache and the caches it is
//! compared with (issue 4, scenario `memory`; results in BENCHMARKS.md).
//!
//! A counting global allocator keeps the live heap bytes (the sizes asked of the allocator,
//! not RSS: the allocator's own overhead is not in them). For each comparator: live bytes
//! before, 200_000 calls with distinct keys through the memoized function, live bytes after;
//! the difference / 200_000 is the cost of one entry, including the store's hash table,
//! LRU links, expiry metadata and the static's lazy set-up. `cargo bench --bench memory`.
//!
//! Then the `threads × caches` scenario (issue 13; `memory_threads.rs`): what 1 to 16 threads
//! reading 50 caches of 2 000 entries add to the entries' memory, in heap bytes and VmRSS.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};

mod keys;
use keys::mix;

/// Forwards to the system allocator and keeps the live byte count.
struct Counting;

#[path = "memory_threads.rs"]
mod threads;

static LIVE: AtomicIsize = AtomicIsize::new(0);

fn size(layout: Layout) -> isize {
    isize::try_from(layout.size()).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// static atomic, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(size(layout), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(size(layout), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = isize::try_from(new_size).unwrap_or(isize::MAX);
        LIVE.fetch_add(new - size(layout), Ordering::Relaxed);
        // SAFETY: `ptr` came from this allocator (so from `System`) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(size(layout), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ENTRIES: u64 = 200_000;

/// The body of every function: the value depends on the key.
fn work(x: u64) -> u64 {
    x.rotate_left(17) ^ 0xA5A5
}

mod memo {
    use super::work;
    use memocache::cached;

    #[cached(capacity = 200_000)]
    pub fn capacity(x: u64) -> u64 {
        work(x)
    }

    #[cached(capacity = 200_000, ttl = "5m")]
    pub fn capacity_ttl(x: u64) -> u64 {
        work(x)
    }

    #[cached(unbounded)]
    pub fn unbounded(x: u64) -> u64 {
        work(x)
    }

    #[cached(unbounded, ttl = "5m")]
    pub fn unbounded_ttl(x: u64) -> u64 {
        work(x)
    }
}

mod cach {
    use super::work;
    use cached::proc_macro::cached;

    #[cached(max_size = 200_000)]
    pub fn max_size(x: u64) -> u64 {
        work(x)
    }

    #[cached(max_size = 200_000, ttl_secs = 300)]
    pub fn max_size_ttl(x: u64) -> u64 {
        work(x)
    }

    #[cached]
    pub fn unbounded(x: u64) -> u64 {
        work(x)
    }

    pub fn len_max_size() -> usize {
        use cached::Cached;
        MAX_SIZE.read().cache_size()
    }

    pub fn len_max_size_ttl() -> usize {
        use cached::Cached;
        MAX_SIZE_TTL.read().cache_size()
    }

    pub fn len_unbounded() -> usize {
        use cached::Cached;
        UNBOUNDED.read().cache_size()
    }
}

mod memz {
    use super::work;
    use memoize::memoize;
    use std::time::Duration;

    #[memoize(SharedCache, Capacity: 200_000)]
    pub fn capacity(x: u64) -> u64 {
        work(x)
    }

    #[memoize(SharedCache, Capacity: 200_000, TimeToLive: Duration::from_secs(300))]
    pub fn capacity_ttl(x: u64) -> u64 {
        work(x)
    }

    #[memoize(SharedCache)]
    pub fn unbounded(x: u64) -> u64 {
        work(x)
    }
}

mod mok {
    use super::{ENTRIES, work};
    use moka::sync::Cache;
    use std::sync::LazyLock;
    use std::time::Duration;

    static PLAIN: LazyLock<Cache<u64, u64>> = LazyLock::new(|| Cache::new(ENTRIES));
    static TTL: LazyLock<Cache<u64, u64>> = LazyLock::new(|| {
        Cache::builder()
            .max_capacity(ENTRIES)
            .time_to_live(Duration::from_secs(300))
            .build()
    });

    pub fn plain(x: u64) -> u64 {
        PLAIN.get_with(x, || work(x))
    }

    pub fn ttl(x: u64) -> u64 {
        TTL.get_with(x, || work(x))
    }

    /// moka applies inserts to its policy in batches: settle them before counting.
    pub fn len_plain() -> usize {
        PLAIN.run_pending_tasks();
        PLAIN.entry_count() as usize
    }

    pub fn len_ttl() -> usize {
        TTL.run_pending_tasks();
        TTL.entry_count() as usize
    }
}

mod quick {
    use super::{ENTRIES, work};
    use quick_cache::sync::Cache;
    use std::convert::Infallible;
    use std::sync::LazyLock;

    static CACHE: LazyLock<Cache<u64, u64>> = LazyLock::new(|| Cache::new(ENTRIES as usize));

    pub fn plain(x: u64) -> u64 {
        match CACHE.get_or_insert_with(&x, || Ok::<_, Infallible>(work(x))) {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    pub fn len() -> usize {
        CACHE.len()
    }
}

/// The plain baselines: `Mutex<lru::LruCache>` and, as the floor, `Mutex<HashMap>`.
mod baseline {
    use super::{ENTRIES, work};
    use lru::LruCache;
    use std::collections::HashMap;
    use std::num::NonZeroUsize;
    use std::sync::{LazyLock, Mutex};

    static LRU: LazyLock<Mutex<LruCache<u64, u64>>> =
        LazyLock::new(|| Mutex::new(LruCache::new(NonZeroUsize::new(ENTRIES as usize).unwrap())));
    static MAP: LazyLock<Mutex<HashMap<u64, u64>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

    pub fn lru(x: u64) -> u64 {
        if let Some(v) = LRU.lock().unwrap().get(&x) {
            return *v;
        }
        let v = work(x);
        LRU.lock().unwrap().put(x, v);
        v
    }

    pub fn map(x: u64) -> u64 {
        if let Some(v) = MAP.lock().unwrap().get(&x) {
            return *v;
        }
        let v = work(x);
        MAP.lock().unwrap().insert(x, v);
        v
    }

    pub fn len_lru() -> usize {
        LRU.lock().unwrap().len()
    }

    pub fn len_map() -> usize {
        MAP.lock().unwrap().len()
    }
}

/// One comparator: its name, its configuration, the memoized function and its entry count.
type Row = (&'static str, &'static str, fn(u64) -> u64, fn() -> usize);

const ROWS: &[Row] = &[
    ("memocache", "capacity = 200_000", memo::capacity, || {
        memo::capacity_cache().len()
    }),
    (
        "memocache",
        "capacity = 200_000, ttl = \"5m\"",
        memo::capacity_ttl,
        || memo::capacity_ttl_cache().len(),
    ),
    ("memocache", "unbounded", memo::unbounded, || {
        memo::unbounded_cache().len()
    }),
    (
        "memocache",
        "unbounded, ttl = \"5m\"",
        memo::unbounded_ttl,
        || memo::unbounded_ttl_cache().len(),
    ),
    (
        "cached",
        "max_size = 200_000",
        cach::max_size,
        cach::len_max_size,
    ),
    (
        "cached",
        "max_size = 200_000, ttl_secs = 300",
        cach::max_size_ttl,
        cach::len_max_size_ttl,
    ),
    (
        "cached",
        "unbounded (default store)",
        cach::unbounded,
        cach::len_unbounded,
    ),
    (
        "memoize",
        "SharedCache, Capacity: 200_000",
        memz::capacity,
        memz::memoized_size_capacity,
    ),
    (
        "memoize",
        "SharedCache, Capacity: 200_000, TimeToLive: 5 min",
        memz::capacity_ttl,
        memz::memoized_size_capacity_ttl,
    ),
    (
        "memoize",
        "SharedCache (unbounded)",
        memz::unbounded,
        memz::memoized_size_unbounded,
    ),
    (
        "moka",
        "sync::Cache::new(200_000)",
        mok::plain,
        mok::len_plain,
    ),
    (
        "moka",
        "max_capacity(200_000), time_to_live(5 min)",
        mok::ttl,
        mok::len_ttl,
    ),
    (
        "quick_cache",
        "sync::Cache::new(200_000)",
        quick::plain,
        quick::len,
    ),
    (
        "lru_mutex",
        "Mutex<LruCache>, cap 200_000",
        baseline::lru,
        baseline::len_lru,
    ),
    (
        "hashmap_mutex",
        "Mutex<HashMap> (floor, no eviction)",
        baseline::map,
        baseline::len_map,
    ),
];

fn main() {
    // The child process of one comparator's `threads × caches` run.
    if let Ok(name) = std::env::var("MEMOCACHE_BENCH_THREADS") {
        threads::child(&name);
        return;
    }
    // `cargo bench` passes `--bench`; any other argument filters on the comparator name.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let scenario = threads::run(&filters);
    println!("memory: live heap bytes after {ENTRIES} u64 -> u64 inserts (distinct keys)\n");
    println!("| crate | configuration | entries held | bytes / insert | bytes / held entry |");
    println!("|---|---|---:|---:|---:|");
    let mut json = Vec::new();
    for &(name, config, f, len) in ROWS {
        if !filters.is_empty() && !filters.iter().any(|w| name.contains(w.as_str())) {
            continue;
        }
        let before = LIVE.load(Ordering::Relaxed);
        for i in 0..ENTRIES {
            black_box(f(mix(i)));
        }
        let held = len();
        let bytes = LIVE.load(Ordering::Relaxed) - before;
        let per_insert = bytes as f64 / ENTRIES as f64;
        let per_held = bytes as f64 / held.max(1) as f64;
        println!("| {name} | `{config}` | {held} | {per_insert:.1} | {per_held:.1} |");
        json.push(format!(
            "  {{\"crate\": \"{name}\", \"config\": \"{}\", \"held\": {held}, \
             \"bytes_per_insert\": {per_insert:.2}, \"bytes_per_held\": {per_held:.2}}}",
            config.replace('"', "\\\"")
        ));
    }
    write_json("memory.json", &json);
    write_json("memory_threads.json", &scenario);
}

/// Writes `rows` as a JSON array to `target/bench-extra/<file>`, for `benches/plot.py`.
fn write_json(file: &str, rows: &[String]) {
    // The workspace's target directory: this package's directory is benches/.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let dir = std::path::PathBuf::from(target).join("bench-extra");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(file), format!("[\n{}\n]\n", rows.join(",\n"))));
    if let Err(e) = written {
        eprintln!("could not write {}: {e}", dir.join(file).display());
    }
}
