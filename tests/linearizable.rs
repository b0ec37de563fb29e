//! Invalidation holds under concurrency: once `invalidate_f`, `invalidate_all_f`, `clear`,
//! `invalidate_tag` or `refresh_f` has returned, no call that starts afterwards gets a value
//! computed before that return.
//!
//! Every test has the same shape. Each key has a source value, which the body reads, and a
//! published version. Writers loop: bump the source of a key, invalidate (or refresh) it,
//! then publish the new version. Readers loop: read the published version `c` of a key,
//! call the cached function, and check that the answer is at least `c`: the call started
//! after the invalidation that published `c` returned, so its answer must come from a body
//! run that started after it, which read a source of at least `c`. Every path that can
//! answer a call is exercised: stored entries, per-thread copies (the sharded `u64` cache),
//! flights joined by waiters, stale serves, and refreshes.
//!
//! The bodies yield after reading the source, so that runs overlap invalidations often. The
//! runs are bounded by a count of calls, with a time cap so that a slow machine ends them
//! too; they check behaviour, never time.

use memocache::cached;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

const KEYS: usize = 64;
const READERS: usize = 4;
const WRITERS: usize = 2;
/// Calls per reader (and writes per writer), unless [`CAP`] ends the run first.
const CALLS: usize = 60_000;
const CAP: Duration = Duration::from_secs(3);

/// The data behind one cached function: each key's source value and published version.
struct World {
    source: [AtomicU64; KEYS],
    published: [AtomicU64; KEYS],
}

impl World {
    const fn new() -> Self {
        World {
            source: [const { AtomicU64::new(0) }; KEYS],
            published: [const { AtomicU64::new(0) }; KEYS],
        }
    }

    /// What a body reads, then a yield so that the run overlaps other calls.
    fn read(&self, k: u64) -> u64 {
        let v = self.source[index(k)].load(SeqCst);
        thread::yield_now();
        v
    }
}

fn index(k: u64) -> usize {
    usize::try_from(k).unwrap() % KEYS
}

/// A small deterministic generator, one per thread.
struct Rng(u64);

impl Rng {
    fn key(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % KEYS as u64
    }
}

/// Runs writers and readers against one cached function; returns the violations seen and
/// the number of reads checked. `write(k)` makes the bumped source of `k` current (an
/// invalidation or a refresh); `call(k)` is the cached call.
fn stress(
    world: &'static World,
    write: impl Fn(u64) + Sync,
    call: impl Fn(u64) -> u64 + Sync,
) -> (u64, u64) {
    let violations = AtomicU64::new(0);
    let reads = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    thread::scope(|s| {
        for w in 0..WRITERS {
            let (write, stop) = (&write, &stop);
            s.spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (w as u64 + 1));
                for _ in 0..CALLS {
                    if stop.load(SeqCst) {
                        break;
                    }
                    let k = rng.key();
                    let v = world.source[index(k)].fetch_add(1, SeqCst) + 1;
                    write(k);
                    world.published[index(k)].fetch_max(v, SeqCst);
                }
            });
        }
        let readers: Vec<_> = (0..READERS)
            .map(|r| {
                let (call, violations, reads) = (&call, &violations, &reads);
                s.spawn(move || {
                    let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (r as u64 + 7));
                    for _ in 0..CALLS {
                        if started.elapsed() > CAP {
                            break;
                        }
                        let k = rng.key();
                        let c = world.published[index(k)].load(SeqCst);
                        if call(k) < c {
                            violations.fetch_add(1, SeqCst);
                        }
                        reads.fetch_add(1, SeqCst);
                    }
                })
            })
            .collect();
        for r in readers {
            r.join().unwrap();
        }
        stop.store(true, SeqCst);
    });
    (violations.load(SeqCst), reads.load(SeqCst))
}

fn assert_none(what: &str, (violations, reads): (u64, u64)) {
    assert!(reads > 1000, "{what}: only {reads} reads");
    assert_eq!(
        violations, 0,
        "{what}: {violations} of {reads} reads returned a value older than an invalidation \
         that returned before the read started"
    );
}

static PLAIN: World = World::new();

/// Sharded (capacity 4096), plain-data: per-thread copies answer most hits.
#[cached(capacity = 4096)]
fn plain(k: u64) -> u64 {
    PLAIN.read(k)
}

#[test]
fn invalidate_holds_for_a_sharded_plain_data_cache() {
    let seen = stress(
        &PLAIN,
        |k| {
            invalidate_plain(k);
        },
        plain,
    );
    assert_none("invalidate_plain", seen);
}

static HEAP: World = World::new();

/// One shard (128 entries), heap values: no per-thread copies, exact LRU.
#[cached(capacity = 128)]
fn heap(k: u64) -> String {
    HEAP.read(k).to_string()
}

#[test]
fn invalidate_holds_for_a_small_cache_of_heap_values() {
    let seen = stress(
        &HEAP,
        |k| {
            invalidate_heap(k);
        },
        |k| heap(k).parse().unwrap(),
    );
    assert_none("invalidate_heap", seen);
}

static TAGGED: World = World::new();

#[cached(capacity = 4096, tags = [format!("tagged:{k}")])]
fn tagged(k: u64) -> u64 {
    TAGGED.read(k)
}

#[test]
fn invalidate_tag_holds() {
    let seen = stress(
        &TAGGED,
        |k| {
            memocache::invalidate_tag(&format!("tagged:{k}"));
        },
        tagged,
    );
    assert_none("invalidate_tag", seen);
}

static CLEARED: World = World::new();

#[cached(capacity = 4096)]
fn cleared(k: u64) -> u64 {
    CLEARED.read(k)
}

#[test]
fn clear_holds() {
    let seen = stress(&CLEARED, |_| cleared_cache().clear(), cleared);
    assert_none("clear", seen);
}

static ALL: World = World::new();

#[cached(capacity = 128)]
fn all(k: u64) -> String {
    ALL.read(k).to_string()
}

#[test]
fn invalidate_all_holds() {
    let seen = stress(&ALL, |_| invalidate_all_all(), |k| all(k).parse().unwrap());
    assert_none("invalidate_all", seen);
}

static REFRESHED: World = World::new();

#[cached(capacity = 4096)]
fn refreshed(k: u64) -> u64 {
    REFRESHED.read(k)
}

#[test]
fn refresh_holds() {
    let seen = stress(
        &REFRESHED,
        |k| {
            refresh_refreshed(k);
        },
        refreshed,
    );
    assert_none("refresh_refreshed", seen);
}

static UNSHARED: World = World::new();

#[cached(capacity = 4096, single_flight = false)]
fn unshared(k: u64) -> u64 {
    UNSHARED.read(k)
}

#[test]
fn invalidate_and_refresh_hold_without_single_flight() {
    let seen = stress(
        &UNSHARED,
        |k| {
            if k % 2 == 0 {
                invalidate_unshared(k);
            } else {
                refresh_unshared(k);
            }
        },
        unshared,
    );
    assert_none("single_flight = false", seen);
}

static STALE: World = World::new();

/// Entries go stale a millisecond after they are stored, so that calls are answered by
/// stale serves and background refreshes as often as by fresh entries.
#[cached(ttl = "1ms", stale = "1h")]
fn stale(k: u64) -> String {
    STALE.read(k).to_string()
}

#[test]
fn invalidate_holds_for_stale_serves_and_their_refreshes() {
    let seen = stress(
        &STALE,
        |k| {
            invalidate_stale(k);
        },
        |k| stale(k).parse().unwrap(),
    );
    assert_none("invalidate_stale with stale", seen);
}

static ASYNC: World = World::new();

#[cached(capacity = 4096)]
async fn fetched(k: u64) -> u64 {
    let v = ASYNC.source[index(k)].load(SeqCst);
    tokio::task::yield_now().await;
    v
}

/// The same shape with tasks on a multi-thread tokio runtime: readers and writers are
/// spawned tasks, and waiting for a flight parks a task, not a thread.
#[test]
fn invalidate_holds_for_async_fn_on_tokio_multi_thread() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let violations = &*Box::leak(Box::new(AtomicU64::new(0)));
    let reads = &*Box::leak(Box::new(AtomicU64::new(0)));
    rt.block_on(async {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            tasks.push(tokio::spawn(async move {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (w as u64 + 1));
                for _ in 0..CALLS / 4 {
                    if started.elapsed() > CAP {
                        break;
                    }
                    let k = rng.key();
                    let v = ASYNC.source[index(k)].fetch_add(1, SeqCst) + 1;
                    invalidate_fetched(k).await;
                    ASYNC.published[index(k)].fetch_max(v, SeqCst);
                    tokio::task::yield_now().await;
                }
            }));
        }
        for r in 0..READERS * 4 {
            tasks.push(tokio::spawn(async move {
                let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (r as u64 + 7));
                for _ in 0..CALLS / 4 {
                    if started.elapsed() > CAP {
                        break;
                    }
                    let k = rng.key();
                    let c = ASYNC.published[index(k)].load(SeqCst);
                    if fetched(k).await < c {
                        violations.fetch_add(1, SeqCst);
                    }
                    reads.fetch_add(1, SeqCst);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_none(
        "async invalidate_fetched",
        (violations.load(SeqCst), reads.load(SeqCst)),
    );
}

static NESTED: World = World::new();

#[cached(capacity = 128, tags = [format!("nested:{k}")])]
fn nested_inner(k: u64) -> String {
    NESTED.read(k).to_string()
}

/// Built from `nested_inner`, with the same tag: a profile page built from the profile.
#[cached(capacity = 128, tags = [format!("nested:{k}")])]
fn nested_outer(k: u64) -> String {
    let inner = nested_inner(k);
    thread::yield_now();
    inner
}

/// A tag invalidation drops the entries of one cache after the other. A run of the outer
/// function that starts once the outer cache has been gone through, and reads the inner one
/// before it is, must not store what it read: the invalidation had not returned.
#[test]
fn invalidate_tag_holds_for_a_cache_built_from_another() {
    // The outer cache first in the registry, so that a tag invalidation goes through it
    // before the inner one.
    nested_outer(0);
    let seen = stress(
        &NESTED,
        |k| {
            memocache::invalidate_tag(&format!("nested:{k}"));
        },
        |k| nested_outer(k).parse().unwrap(),
    );
    assert_none("invalidate_tag, nested caches", seen);
}

static CLEARED_ALL: World = World::new();

#[cached(capacity = 128)]
fn all_inner(k: u64) -> String {
    CLEARED_ALL.read(k).to_string()
}

#[cached(capacity = 128)]
fn all_outer(k: u64) -> String {
    let inner = all_inner(k);
    thread::yield_now();
    inner
}

/// The same through `clear_all`, which empties one cache after the other.
#[test]
fn clear_all_holds_for_a_cache_built_from_another() {
    all_outer(0);
    let seen = stress(
        &CLEARED_ALL,
        |_| memocache::clear_all(),
        |k| all_outer(k).parse().unwrap(),
    );
    assert_none("clear_all, nested caches", seen);
}
