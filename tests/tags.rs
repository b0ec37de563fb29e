//! `tags = [...]` and `memocache::invalidate_tag`: drop related entries across caches.

use memocache::cached;
use std::sync::atomic::{AtomicU32, Ordering};

static PROFILE_READS: AtomicU32 = AtomicU32::new(0);

/// A tag invalidation reaches every cache, and detaches the runs in progress whose tags it
/// does not know yet (they store nothing): the tests here count entries, so one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cached(tags = [format!("user:{id}")])]
fn profile(id: u64) -> String {
    PROFILE_READS.fetch_add(1, Ordering::SeqCst);
    format!("profile {id}")
}

#[cached(key = (id, page), tags = [format!("user:{id}"), "feeds"])]
fn feed(id: u64, page: u32) -> Vec<String> {
    vec![format!("{id}:{page}")]
}

#[test]
fn a_tag_drops_its_entries_in_every_cache() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    profile(1);
    profile(2);
    feed(1, 0);
    feed(1, 1);
    feed(2, 0);
    assert_eq!(memocache::invalidate_tag("user:1"), 3);
    assert_eq!(profile_cache().len(), 1);
    assert_eq!(feed_cache().len(), 1);
    profile(1);
    assert_eq!(
        PROFILE_READS.load(Ordering::SeqCst),
        3,
        "profile 1 was recomputed"
    );
    profile(2);
    assert_eq!(PROFILE_READS.load(Ordering::SeqCst), 3, "profile 2 stayed");
    assert_eq!(memocache::invalidate_tag("feeds"), 1);
    assert_eq!(memocache::invalidate_tag("feeds"), 0);
    assert_eq!(memocache::invalidate_tag("no such tag"), 0);
    assert_eq!(feed_cache().stats().invalidations, 3);
}

struct Shelf(&'static str);

impl std::fmt::Display for Shelf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "shelf-{}", self.0)
    }
}

#[cached(tags = [Shelf("a"), format!("n{}", n % 2)])]
fn book(n: u32) -> u32 {
    n
}

#[test]
fn tags_are_any_display_values() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for n in 0..10 {
        book(n);
    }
    assert_eq!(memocache::invalidate_tag("n1"), 5);
    assert_eq!(memocache::invalidate_tag("shelf-a"), 5);
    assert!(book_cache().is_empty());
}

#[cached(capacity = 2, tags = ["small"])]
fn small(n: u32) -> u32 {
    n
}

#[test]
fn evicted_and_overwritten_entries_leave_their_tags() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for n in 0..10 {
        small(n);
        refresh_small(n);
    }
    assert_eq!(
        memocache::invalidate_tag("small"),
        2,
        "only the two entries still held"
    );
}
