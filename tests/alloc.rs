//! A hit allocates nothing, even when the key is built from borrowed arguments
//! (`&str` keys are looked up as `&str`, and made `String` only on a miss).

use memocache::cached;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

/// Counts the allocations of the calling thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// `const`-initialised thread-local `Cell`, which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[cached(ttl = "5m")]
fn greeting(name: &str, times: u64, tags: &[u8]) -> Arc<String> {
    Arc::new(format!("{name} x{times} {tags:?}"))
}

#[cached]
fn by_number(n: u64) -> u64 {
    n + 1
}

/// `key = ...` expressions that evaluate to references are looked up borrowed too.
#[cached(key = symbol)]
fn by_symbol(symbol: &str, _client: &str) -> Arc<str> {
    Arc::from(symbol)
}

#[cached(key = (symbol, &page))]
fn by_page(symbol: &str, page: u32, _verbose: bool) -> Arc<String> {
    Arc::new(format!("{symbol}:{page}"))
}

#[test]
fn borrowed_key_expressions_do_not_allocate_on_a_hit() {
    let symbols: Vec<String> = (0..50).map(|i| format!("sym-{i}")).collect();
    for (i, s) in symbols.iter().enumerate() {
        by_symbol(s, "client");
        by_page(s, i as u32, false);
    }
    let before = allocations();
    for _ in 0..10 {
        for (i, s) in symbols.iter().enumerate() {
            assert_eq!(&*by_symbol(s, "other client"), s.as_str());
            assert!(by_page(s, i as u32, true).starts_with(s.as_str()));
        }
    }
    assert_eq!(allocations() - before, 0, "allocations in 1000 hits");
    // Stored owned: the entry outlives the `String` it was looked up with.
    let gone = String::from("temporary");
    by_symbol(&gone, "c");
    drop(gone);
    assert!(invalidate_by_symbol("temporary"));
    assert!(invalidate_by_page("sym-3", 3));
}

#[test]
fn hits_do_not_allocate() {
    let names: Vec<String> = (0..100).map(|i| format!("name-{i}")).collect();
    for (i, n) in names.iter().enumerate() {
        greeting(n, i as u64, &[1, 2, 3]);
        by_number(i as u64);
    }
    // The first hits copy `by_number`'s entries into this thread's front, a table that
    // grows a few times, once per thread and cache; `greeting`'s `String` key and `Arc`
    // value have drop glue, so it keeps no front.
    let warming = allocations();
    for (i, _) in names.iter().enumerate() {
        assert_eq!(by_number(i as u64), i as u64 + 1);
    }
    assert!(allocations() - warming <= 16, "{}", allocations() - warming);
    let before = allocations();
    for _ in 0..10 {
        for (i, n) in names.iter().enumerate() {
            assert!(greeting(n, i as u64, &[1, 2, 3]).starts_with(n.as_str()));
            assert_eq!(by_number(i as u64), i as u64 + 1);
        }
    }
    assert_eq!(allocations() - before, 0, "allocations in 2000 hits");
    // The counter does see allocations: a miss makes the owned key and the value.
    greeting("new", 1, &[]);
    assert!(allocations() > before);
}
