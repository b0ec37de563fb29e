//! Model-checked tests of the flight and invalidation protocol, under shuttle's randomized
//! schedulers: the store's mutexes, the flights' mutex and condvar, and the atomics are
//! shuttle's here (see `sync.rs`), so every run explores another interleaving of the threads
//! at each of them.
//!
//! ```text
//! RUSTFLAGS="--cfg shuttle" CARGO_TARGET_DIR=target/shuttle \
//!     cargo test -p cache-runtime --release --lib model_tests
//! ```
//!
//! Each test drives the runtime as generated code does (`Call::lookup`, then `Ticket::run`, and
//! `invalidate`), with a body that reads a source value and yields to the scheduler, so that
//! invalidations land at every point of a run. What must hold, from API.md: a call that
//! starts after an invalidation returned gets a value from a body run that started after it;
//! a panic in the body leaves no waiter hanging; a cancelled run stores nothing.

use crate::backend::Memory;
use crate::call::{Call, Lookup, Mode, Ticket, invalidate, never};
use crate::config::{Config, Settings};
use crate::handle::CacheHandle;
use crate::policy::Plain;
use shuttle::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use shuttle::thread;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// Schedules tried per test.
const ITERATIONS: usize = 2_000;

/// The data one cached function computes from, and what its callers may rely on.
#[derive(Default)]
struct World {
    /// What the body reads.
    source: AtomicU64,
    /// The newest source whose invalidation has returned.
    published: AtomicU64,
    /// Body runs.
    runs: AtomicUsize,
}

/// A cache for one test run: a new handle each time, so that runs share nothing.
fn cache(config: fn() -> Config) -> &'static CacheHandle {
    cache_with(config)
}

/// [`cache`], registered (as every cache is on its first call) in the order of the calls.
fn cache_with(config: fn() -> Config) -> &'static CacheHandle {
    let handle: &'static CacheHandle = Box::leak(Box::new(CacheHandle::with_config(
        "model",
        crate::handle::no_wipe,
        Settings::Built(config),
    )));
    // Created before the threads start: the handle's `OnceLock` is std's, which a model
    // thread must not block on.
    #[allow(clippy::unit_arg)] // `Rep::Types` is `()` in a typed build
    let _ = handle.cache::<u64, u64, Memory>(
        Memory,
        <crate::rep::MemoryRep as crate::rep::Rep>::types::<u64, u64>(),
    );
    handle
}

fn small() -> Config {
    Config::new().capacity(64)
}

/// Sharded, so that threads keep per-thread copies of what they read.
fn sharded() -> Config {
    Config::new().capacity(4096)
}

/// `f(k)` as generated code calls it; the body reads the source, yields, and may panic.
fn call(handle: &'static CacheHandle, _config: fn() -> Config, world: &World, panics: bool) -> u64 {
    let ticket: Ticket<u64, Plain, u64, u64> =
        match Call::new(handle, Mode::Lookup, Plain, Memory).lookup(&7_u64) {
            Lookup::Hit(v) => return v,
            Lookup::Miss(t) => t,
        };
    ticket.run(never, || {
        world.runs.fetch_add(1, SeqCst);
        let v = world.source.load(SeqCst);
        thread::yield_now();
        assert!(!panics, "the body panics");
        v
    })
}

/// A write: the source changes, the key is invalidated, and the new version is published.
fn write(handle: &'static CacheHandle, world: &World) {
    let v = world.source.fetch_add(1, SeqCst) + 1;
    invalidate::<u64, Plain, Memory, _>(handle, Plain, Memory, &7_u64);
    world.published.fetch_max(v, SeqCst);
}

/// A call that starts after the published version's invalidation returned.
fn checked_call(handle: &'static CacheHandle, config: fn() -> Config, world: &World) {
    let c = world.published.load(SeqCst);
    let v = call(handle, config, world, false);
    assert!(v >= c, "got {v}, older than the invalidation of {c}");
}

/// A leader, a waiter that joins its run, and an invalidation landing anywhere, with a
/// checked call after each: no call that starts after the invalidation returned is served
/// the old run's value, whether it joins a flight, hits the store or a thread's copy.
fn leader_waiter_invalidation(config: fn() -> Config) {
    let handle = cache(config);
    let world = Arc::new(World::default());
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let world = Arc::clone(&world);
            thread::spawn(move || {
                call(handle, config, &world, false);
                checked_call(handle, config, &world);
            })
        })
        .chain(std::iter::once({
            let world = Arc::clone(&world);
            thread::spawn(move || {
                write(handle, &world);
                checked_call(handle, config, &world);
            })
        }))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    checked_call(handle, config, &world);
}

#[test]
fn leader_waiter_and_invalidation() {
    shuttle::check_random(|| leader_waiter_invalidation(small), ITERATIONS);
}

#[test]
fn leader_waiter_and_invalidation_with_per_thread_copies() {
    shuttle::check_random(|| leader_waiter_invalidation(sharded), ITERATIONS);
}

#[test]
fn leader_waiter_and_invalidation_pct() {
    shuttle::check_pct(|| leader_waiter_invalidation(small), ITERATIONS, 3);
}

/// A leader whose body panics and a waiter: the waiter is not left hanging (shuttle reports
/// a deadlock if it is), it runs the body itself, and nothing of the panicked run is stored.
#[test]
fn leader_panic_and_waiter() {
    shuttle::check_random(
        || {
            let handle = cache(small);
            let world = Arc::new(World::default());
            let leader = {
                let world = Arc::clone(&world);
                thread::spawn(move || {
                    let r = catch_unwind(AssertUnwindSafe(|| call(handle, small, &world, true)));
                    // Either its body ran and panicked, or it joined the waiter's run.
                    if let Ok(v) = r {
                        assert_eq!(v, 0);
                    }
                })
            };
            let waiter = {
                let world = Arc::clone(&world);
                thread::spawn(move || call(handle, small, &world, false))
            };
            leader.join().unwrap();
            assert_eq!(waiter.join().unwrap(), 0);
            // The waiter's run (or a later one) stored 0; a panicked run stored nothing.
            assert_eq!(call(handle, small, &world, false), 0);
            assert!(world.runs.load(SeqCst) <= 2);
        },
        ITERATIONS,
    );
}

/// A waiter joins the leader's run, then the key is invalidated before the leader stores:
/// the waiter may get the run's value (it was waiting already), but the run stores nothing,
/// so the next call runs the body again and sees the new source.
#[test]
fn invalidation_between_a_waiters_join_and_the_leaders_store() {
    shuttle::check_random(
        || {
            let handle = cache(small);
            let world = Arc::new(World::default());
            let callers: Vec<_> = (0..2)
                .map(|_| {
                    let world = Arc::clone(&world);
                    thread::spawn(move || call(handle, small, &world, false))
                })
                .collect();
            let writer = {
                let world = Arc::clone(&world);
                thread::spawn(move || write(handle, &world))
            };
            for c in callers {
                assert!(c.join().unwrap() <= 1);
            }
            writer.join().unwrap();
            let after = call(handle, small, &world, false);
            assert_eq!(
                after, 1,
                "a value computed before the invalidation was stored"
            );
        },
        ITERATIONS,
    );
}

fn tagged() -> Config {
    Config::new().capacity(64).tagged()
}

/// `f(k)` of a tagged cache whose body is `body`: as generated code calls it.
fn tagged_call(handle: &'static CacheHandle, body: impl FnOnce() -> u64) -> u64 {
    let lookup: Lookup<u64, Ticket<u64, Plain, u64, u64>> =
        Call::new(handle, Mode::Lookup, Plain, Memory).lookup(&7_u64);
    match lookup.tags(|| [String::from("t")]) {
        Lookup::Hit(v) => v,
        Lookup::Miss(t) => t.run(never, body),
    }
}

/// Two caches whose entries carry the same tag, one built from the other (a page from a
/// profile), and a tag invalidation that goes through the outer one first: a run of the outer
/// function that begins after its cache was gone through and reads the inner one before it
/// is must store nothing (see `ongoing.rs`).
#[test]
fn a_tag_invalidation_that_goes_through_caches_one_by_one() {
    shuttle::check_pct(
        || {
            let outer = cache_with(tagged);
            let inner = cache_with(tagged);
            let world = Arc::new(World::default());
            let page = move |world: &World| {
                tagged_call(outer, || {
                    tagged_call(inner, || {
                        world.runs.fetch_add(1, SeqCst);
                        world.source.load(SeqCst)
                    })
                })
            };
            let reader = {
                let world = Arc::clone(&world);
                thread::spawn(move || {
                    let c = world.published.load(SeqCst);
                    let v = page(&world);
                    assert!(v >= c, "got {v}, older than the invalidation of {c}");
                })
            };
            let writer = {
                let world = Arc::clone(&world);
                thread::spawn(move || {
                    world.source.store(1, SeqCst);
                    // `invalidate_tag` over these two caches only (the registry holds every
                    // earlier run's), in the order it takes them: the outer first.
                    crate::handle::invalidate_tag_among(vec![outer, inner], "t");
                    world.published.store(1, SeqCst);
                })
            };
            let early = {
                let world = Arc::clone(&world);
                thread::spawn(move || page(&world))
            };
            reader.join().unwrap();
            writer.join().unwrap();
            early.join().unwrap();
            assert_eq!(
                page(&world),
                1,
                "a page built from the old profile was stored"
            );
        },
        ITERATIONS * 10,
        3,
    );
}
