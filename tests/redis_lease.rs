//! A fleet lease is given back at once when its run ends without a value, against a real
//! `redis-server`: a sync body that panics, an `async fn` body that panics, and an `async fn`
//! whose future is dropped mid-run (a cancelled request). The lease here is 30 s: the entry's
//! key disappearing within a few seconds can only be the release, not the lease running out,
//! and the next call runs the body again instead of waiting for the lease.
#![cfg(feature = "redis")]

#[path = "support/redis_child.rs"]
mod redis_child;
#[path = "support/redis_server.rs"]
mod redis_server;
#[path = "support/redis_shared.rs"]
mod redis_shared;

use memocache::cached;
use redis_server::RedisServer;
use redis_shared::Shared;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// Far longer than any wait in these tests.
const LEASE: Duration = Duration::from_secs(30);
/// How long a released lease may take to go: the release is sent without waiting, from a
/// destructor.
const RELEASED_WITHIN: Duration = Duration::from_secs(5);

static REDIS: Shared<RedisServer> = Shared::new(|c| c.lease(LEASE));

/// Waits until `key` is there (`true`) or gone (`false`); whether it got so in `within`.
fn wait_for(server: &RedisServer, key: &str, there: bool, within: Duration) -> bool {
    let until = Instant::now() + within;
    let want = if there { "1" } else { "0" };
    while server.cli(&["EXISTS", key]) != want {
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// The lease on `key` goes within [`RELEASED_WITHIN`].
fn assert_released(server: &RedisServer, key: &str) {
    assert!(
        wait_for(server, key, false, RELEASED_WITHIN),
        "the lease was not released: {} ms left",
        server.cli(&["PTTL", key])
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

static PANICS: AtomicBool = AtomicBool::new(true);
static SYNC_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "lease.sync_panics")]
fn sync_panics(id: u32) -> u32 {
    SYNC_RUNS.fetch_add(1, SeqCst);
    assert!(
        !PANICS.load(SeqCst),
        "the body panics while it holds the lease"
    );
    id + 1
}

#[test]
fn a_sync_body_that_panics_gives_its_lease_back() {
    let Some(server) = REDIS.get() else { return };
    let key = "memocache:lease.sync_panics:1";
    let unwound = std::panic::catch_unwind(|| sync_panics(1));
    assert!(unwound.is_err(), "the body's panic reaches the caller");
    assert_released(server, key);
    PANICS.store(false, SeqCst);
    let start = Instant::now();
    assert_eq!(sync_panics(1), 2);
    assert_eq!(SYNC_RUNS.load(SeqCst), 2, "the next call ran the body");
    assert!(
        start.elapsed() < LEASE / 2,
        "the next call waited for a lease"
    );
    assert!(
        wait_for(server, key, true, RELEASED_WITHIN),
        "the value is stored"
    );
}

static ASYNC_PANICS: AtomicBool = AtomicBool::new(true);
static ASYNC_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "lease.async_panics")]
async fn async_panics(id: u32) -> u32 {
    ASYNC_RUNS.fetch_add(1, SeqCst);
    tokio::task::yield_now().await;
    assert!(
        !ASYNC_PANICS.load(SeqCst),
        "the body panics while it holds the lease"
    );
    id + 2
}

#[test]
fn an_async_body_that_panics_gives_its_lease_back() {
    let Some(server) = REDIS.get() else { return };
    let key = "memocache:lease.async_panics:1";
    let rt = runtime();
    let joined = rt.block_on(rt.spawn(async_panics(1)));
    assert!(joined.is_err_and(|e| e.is_panic()), "the task panicked");
    assert_released(server, key);
    ASYNC_PANICS.store(false, SeqCst);
    let start = Instant::now();
    assert_eq!(rt.block_on(async_panics(1)), 3);
    assert_eq!(ASYNC_RUNS.load(SeqCst), 2, "the next call ran the body");
    assert!(
        start.elapsed() < LEASE / 2,
        "the next call waited for a lease"
    );
}

static STUCK: AtomicBool = AtomicBool::new(true);
static STUCK_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "lease.cancelled")]
async fn cancelled(id: u32) -> u32 {
    STUCK_RUNS.fetch_add(1, SeqCst);
    while STUCK.load(SeqCst) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    id + 3
}

#[test]
fn a_dropped_future_gives_its_lease_back() {
    let Some(server) = REDIS.get() else { return };
    let key = "memocache:lease.cancelled:1";
    let rt = runtime();
    let task = rt.spawn(cancelled(1));
    assert!(
        wait_for(server, key, true, RELEASED_WITHIN),
        "the call never took the lease"
    );
    // The lease is taken before the body starts: on a busy machine the test can see the one
    // before the other.
    let until = Instant::now() + RELEASED_WITHIN;
    while STUCK_RUNS.load(SeqCst) == 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(STUCK_RUNS.load(SeqCst), 1, "the body runs");
    assert_eq!(
        server.cli(&["EXISTS", key]),
        "1",
        "the body runs, holding the lease"
    );
    task.abort();
    let aborted = rt.block_on(task);
    assert!(aborted.is_err_and(|e| e.is_cancelled()));
    assert_released(server, key);
    STUCK.store(false, SeqCst);
    let start = Instant::now();
    let again = rt.block_on(cancelled(1));
    assert_eq!(again, 4);
    assert_eq!(STUCK_RUNS.load(SeqCst), 2, "the next call ran the body");
    assert!(
        start.elapsed() < LEASE / 2,
        "the next call waited for a lease"
    );
}
