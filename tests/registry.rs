//! The process-wide view: stats, `caches()`, `bypass()`.

use memocache::{CacheStats, cached};
use std::sync::atomic::{AtomicU32, Ordering};

#[cached(capacity = 1)]
fn tiny(n: u32) -> u32 {
    n
}

#[test]
fn stats_count_each_kind_of_event() {
    tiny(1); // miss
    tiny(1); // hit
    tiny(2); // miss, evicts 1
    invalidate_tiny(2); // invalidation
    let s = tiny_cache().stats();
    assert_eq!(
        s,
        CacheStats {
            hits: 1,
            misses: 2,
            evictions: 1,
            expirations: 0,
            invalidations: 1,
            errors: 0,
        }
    );
    assert!((s.hit_ratio() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(CacheStats::default().hit_ratio(), 0.0);
    assert!(s.to_string().contains("hits 1 misses 2"));
}

#[cached]
fn listed(n: u32) -> u32 {
    n
}

#[test]
fn caches_lists_every_cache_once_it_was_used() {
    assert!(
        !memocache::caches()
            .iter()
            .any(|c| c.name() == "registry::listed")
    );
    listed(1);
    listed(2);
    let all = memocache::caches();
    let mine: Vec<_> = all
        .iter()
        .filter(|c| c.name() == "registry::listed")
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].len(), 2);
    assert!(std::ptr::eq(*mine[0], listed_cache()));
    assert!(format!("{:?}", listed_cache()).contains("registry::listed"));
}

static BYPASSED: AtomicU32 = AtomicU32::new(0);

#[cached]
fn bypassed(n: u32) -> u32 {
    BYPASSED.fetch_add(1, Ordering::SeqCst);
    n
}

#[test]
fn bypass_runs_bodies_without_reading_or_storing() {
    bypassed(1);
    {
        let _outer = memocache::bypass();
        {
            let _inner = memocache::bypass();
            bypassed(1);
        }
        bypassed(1);
        bypassed(2);
    }
    assert_eq!(BYPASSED.load(Ordering::SeqCst), 4);
    assert_eq!(bypassed_cache().len(), 1, "2 was not stored");
    bypassed(1);
    assert_eq!(
        BYPASSED.load(Ordering::SeqCst),
        4,
        "back to hits once the guards are gone"
    );
    let other_thread = std::thread::spawn(|| {
        bypassed(1);
    });
    let _guard = memocache::bypass();
    other_thread.join().unwrap();
    assert_eq!(
        BYPASSED.load(Ordering::SeqCst),
        4,
        "a guard acts on its own thread only"
    );
    let s = bypassed_cache().stats();
    assert_eq!((s.hits, s.misses), (2, 1), "bypassed calls are not counted");
}
