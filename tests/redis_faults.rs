//! Fail-open against a real `redis-server` that is killed, restarted and paused: a cached
//! function returns the right value whatever Redis does, counts the failures, and an
//! invalidation that could not reach Redis is replayed before the cache reads from it again.
//!
//! One server for the whole binary, faults in order, in one test: the Redis client is
//! process-wide, and a fault would reach any test running beside it.
#![cfg(feature = "redis")]

#[path = "support/redis_server.rs"]
mod redis_server;

use memocache::cached;
use redis_server::RedisServer;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// How long a call may take before the test calls it hung (a guard, not a timing target:
/// a call waits at most the operation timeout for Redis, 20 ms here).
const HANG: Duration = Duration::from_secs(10);

static SOURCE: AtomicU32 = AtomicU32::new(1);
static RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "faults.rates")]
fn rates(day: u32) -> u32 {
    RUNS.fetch_add(1, SeqCst);
    SOURCE.load(SeqCst) * 1000 + day
}

/// `rates(day)`, checked not to hang.
fn timed_rates(day: u32) -> u32 {
    let start = Instant::now();
    let v = rates(day);
    assert!(start.elapsed() < HANG, "a call took {:?}", start.elapsed());
    v
}

/// Calls until Redis serves again (the breaker's probe closes it within a second or so).
fn until_redis_answers(server: &RedisServer, day: u32) {
    let start = Instant::now();
    loop {
        timed_rates(day);
        if server.cli(&["EXISTS", &format!("memocache:faults.rates:{day}")]) == "1" {
            return;
        }
        assert!(start.elapsed() < HANG, "Redis never came back");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn redis_killed_restarted_and_paused_never_costs_a_wrong_value() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    memocache::redis::init(
        memocache::redis::Config::from_url(&server.url())
            .unwrap()
            .operation_timeout(Duration::from_millis(20)),
    )
    .unwrap();

    // Up: one run, then Redis answers.
    assert_eq!(timed_rates(1), 1001);
    assert_eq!(timed_rates(1), 1001);
    assert_eq!(RUNS.load(SeqCst), 1);

    // Killed: every call runs its body and returns the right value; the failures count.
    server.kill();
    let before = RUNS.load(SeqCst);
    for _ in 0..50 {
        assert_eq!(timed_rates(1), 1001);
    }
    assert_eq!(RUNS.load(SeqCst), before + 50);
    let errors = rates_cache().stats().errors;
    assert!(errors > 0, "the outage is counted");

    // Restarted (empty: no persistence): the cache uses Redis again by itself.
    server.restart();
    until_redis_answers(&server, 1);
    let runs = RUNS.load(SeqCst);
    assert_eq!(timed_rates(1), 1001);
    assert_eq!(RUNS.load(SeqCst), runs, "served from Redis again");

    // Paused (SIGSTOP: connections are accepted, nothing answers): an invalidation cannot
    // reach Redis, and is kept.
    assert_eq!(timed_rates(2), 1002);
    SOURCE.store(2, SeqCst);
    server.pause();
    assert!(!invalidate_rates(2));
    // Meanwhile calls run their bodies and get the new value.
    assert_eq!(timed_rates(2), 2002);
    server.resume();
    // Back: the old value is still in Redis, but the kept invalidation is replayed before the
    // cache reads from it: no call is served 1002 again.
    let start = Instant::now();
    loop {
        assert_eq!(
            timed_rates(2),
            2002,
            "the old value was served after its invalidation"
        );
        if server.cli(&["GET", "memocache:faults.rates:2"]).is_empty() {
            // Not stored yet: the breaker is still open.
            assert!(start.elapsed() < HANG, "Redis never came back");
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        break;
    }
    let runs = RUNS.load(SeqCst);
    assert_eq!(timed_rates(2), 2002);
    assert_eq!(RUNS.load(SeqCst), runs, "the new value is the one in Redis");
}
