//! Hits served from a thread's own front (the copies a thread keeps of the entries it read
//! lately, in sharded caches of plain-data keys and values) behave as hits from the store:
//! whatever removes or replaces an entry, in any thread, is seen by every thread's next call.

use memocache::cached;
use memocache::testing::advance_clock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

/// Counts body runs and makes each run's value tell which generation computed it.
struct Source {
    runs: AtomicU64,
    generation: AtomicU64,
}

impl Source {
    const fn new() -> Self {
        Source {
            runs: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        }
    }

    fn value(&self, k: u64) -> u64 {
        self.runs.fetch_add(1, Ordering::SeqCst);
        k * 1000 + self.generation.load(Ordering::SeqCst)
    }

    fn runs(&self) -> u64 {
        self.runs.load(Ordering::SeqCst)
    }

    fn next_generation(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// A reader thread reads `read(1)` until its front serves it, lets `change` run on this
/// thread, then reads again: returns what the reader read before and after.
fn read_change_read(read: fn(u64) -> u64, change: impl FnOnce()) -> (u64, u64) {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let reader = thread::spawn(move || {
        // A miss, a hit from the store (which copies the entry), then hits from the front.
        let before: Vec<u64> = (0..5).map(|_| read(1)).collect();
        assert!(before.windows(2).all(|w| w[0] == w[1]), "{before:?}");
        ready_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        (before[0], read(1))
    });
    ready_rx.recv().unwrap();
    change();
    go_tx.send(()).unwrap();
    reader.join().unwrap()
}

static INV: Source = Source::new();

#[cached(capacity = 10_000)]
fn inv(k: u64) -> u64 {
    INV.value(k)
}

#[test]
fn an_invalidation_in_one_thread_is_seen_by_another_threads_next_call() {
    let (before, after) = read_change_read(inv, || {
        INV.next_generation();
        invalidate_inv(1);
    });
    assert_eq!((before, after), (1000, 1001));
    assert_eq!(INV.runs(), 2);
}

static REF: Source = Source::new();

#[cached(capacity = 10_000)]
fn refreshed(k: u64) -> u64 {
    REF.value(k)
}

#[test]
fn a_refresh_in_one_thread_replaces_what_another_thread_reads() {
    let (before, after) = read_change_read(refreshed, || {
        REF.next_generation();
        assert_eq!(refresh_refreshed(1), 1001);
    });
    assert_eq!((before, after), (1000, 1001));
    assert_eq!(REF.runs(), 2);
}

static ALL: Source = Source::new();

#[cached(capacity = 10_000)]
fn all(k: u64) -> u64 {
    ALL.value(k)
}

#[test]
fn invalidate_all_and_clear_reach_every_threads_front() {
    let (before, after) = read_change_read(all, || {
        ALL.next_generation();
        invalidate_all_all();
    });
    assert_eq!((before, after), (1000, 1001));
    let (before, after) = read_change_read(all, || {
        ALL.next_generation();
        all_cache().clear();
    });
    assert_eq!((before, after), (1001, 1002));
    assert_eq!(ALL.runs(), 3);
}

static TAGGED: Source = Source::new();

#[cached(capacity = 10_000, tags = [format!("item:{k}")])]
fn tagged(k: u64) -> u64 {
    TAGGED.value(k)
}

#[test]
fn a_tag_invalidation_reaches_every_threads_front() {
    let (before, after) = read_change_read(tagged, || {
        TAGGED.next_generation();
        assert_eq!(memocache::invalidate_tag("item:1"), 1);
    });
    assert_eq!((before, after), (1000, 1001));
}

static EVICTED: Source = Source::new();

// Least recently used first: the default policy keeps key 1, read five times, through a
// stream of one-time keys.
#[cached(capacity = 1024, eviction = "lru")]
fn evicted(k: u64) -> u64 {
    EVICTED.value(k)
}

#[test]
fn an_entry_evicted_by_other_threads_stores_is_not_served_from_a_front() {
    let (before, after) = read_change_read(evicted, || {
        EVICTED.next_generation();
        // Enough other entries to push key 1, unread meanwhile, out of its shard.
        for k in 100..20_000 {
            evicted(k);
        }
    });
    assert_eq!((before, after), (1000, 1001));
}

static HOT: Source = Source::new();

#[cached(capacity = 1024)]
fn hot(k: u64) -> u64 {
    HOT.value(k)
}

#[test]
fn an_entry_read_from_a_front_stays_recently_used_in_the_store() {
    // Key 1 is read between the stores of 20 000 other keys, and stays: once it falls
    // out of the front quarter of its shard, the front hands the hit to the store, which
    // moves it to the front again.
    for k in 100..20_100 {
        assert_eq!(hot(1), 1000);
        hot(k);
    }
    assert_eq!(hot(1), 1000);
    assert_eq!(HOT.runs(), 1 + 20_000);
}

static TIMED: Source = Source::new();

#[cached(capacity = 10_000, ttl = "1m")]
fn timed(k: u64) -> u64 {
    TIMED.value(k)
}

#[test]
fn a_copy_expires_with_its_entry() {
    thread::spawn(|| {
        for _ in 0..5 {
            assert_eq!(timed(1), 1000);
        }
        advance_clock(Duration::from_secs(59));
        assert_eq!(timed(1), 1000);
        assert_eq!(TIMED.runs(), 1);
        TIMED.next_generation();
        advance_clock(Duration::from_secs(2));
        assert_eq!(timed(1), 1001);
        assert_eq!(TIMED.runs(), 2);
    })
    .join()
    .unwrap();
}

static COUNTED: Source = Source::new();

#[cached(capacity = 10_000)]
fn counted(k: u64) -> u64 {
    COUNTED.value(k)
}

#[test]
fn hits_from_fronts_count_in_the_stats_while_their_threads_live_and_after() {
    const THREADS: u64 = 4;
    const CALLS: u64 = 5_000;
    let done = Arc::new(Barrier::new(THREADS as usize + 1));
    let exit = Arc::new(Barrier::new(THREADS as usize + 1));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (done, exit) = (Arc::clone(&done), Arc::clone(&exit));
            thread::spawn(move || {
                for i in 0..CALLS {
                    let k = (i + t) % 10;
                    assert_eq!(counted(k), k * 1000);
                }
                done.wait();
                exit.wait();
            })
        })
        .collect();
    done.wait();
    let live = counted_cache().stats();
    exit.wait();
    for w in workers {
        w.join().unwrap();
    }
    let ended = counted_cache().stats();
    assert_eq!(live.hits + live.misses, THREADS * CALLS);
    assert_eq!((live.hits, live.misses), (ended.hits, ended.misses));
    assert_eq!(ended.misses, COUNTED.runs());
}

static WIDE: Source = Source::new();

#[cached(unbounded)]
fn wide(k: u64) -> u64 {
    WIDE.value(k)
}

#[test]
fn a_thread_reading_more_keys_than_its_front_holds_gets_every_value_right() {
    for _ in 0..3 {
        for k in 0..5_000 {
            assert_eq!(wide(k), k * 1000);
        }
    }
    assert_eq!(WIDE.runs(), 5_000);
    let stats = wide_cache().stats();
    assert_eq!((stats.hits, stats.misses), (10_000, 5_000));
}

static BYPASSED: Source = Source::new();

#[cached(capacity = 10_000)]
fn bypassed(k: u64) -> u64 {
    BYPASSED.value(k)
}

#[test]
fn bypass_skips_the_front_too() {
    for _ in 0..5 {
        bypassed(1);
    }
    assert_eq!(BYPASSED.runs(), 1);
    let _guard = memocache::bypass();
    bypassed(1);
    bypassed(1);
    assert_eq!(BYPASSED.runs(), 3);
}
