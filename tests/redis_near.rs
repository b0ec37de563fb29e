//! `#[cached(redis, near = ..)]` against a real `redis-server`: near copies served from this
//! process's memory, dropped when another process invalidates, refreshes, clears or drops a
//! tag (the time it took is printed), dropped when the invalidation bus loses its connection,
//! and never older than `near`.
//!
//! A second process is this binary again (`MEMOCACHE_TEST_CHILD` names what it does).
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
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};

static REDIS: Shared<RedisServer> = Shared::new(|c| c);

/// The tests of this binary share one server and one bus: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn server() -> Option<&'static RedisServer> {
    REDIS.get()
}

#[test]
fn child() {
    let Some(role) = REDIS.child_role() else {
        return;
    };
    SOURCE.store(500, SeqCst);
    match role.as_str() {
        "invalidate" => {
            invalidate_price(1);
        }
        "invalidate_all" => invalidate_all_price(),
        "refresh" => {
            refresh_price(1);
        }
        // Before any call of `price` in this process: it reaches Redis all the same.
        "clear" => price_cache().clear(),
        "tag" => {
            memocache::invalidate_tag("item:1");
        }
        other => panic!("unknown role {other}"),
    }
    // When the change returned, for the parent's measure of how long its copy outlived it.
    redis_child::tell_parent(unix_micros());
}

static RUNS: AtomicU32 = AtomicU32::new(0);
static SOURCE: AtomicU32 = AtomicU32::new(100);

#[cached(ttl = "10m", redis, near = "30s", name = "near.price", tags = [format!("item:{id}")])]
fn price(id: u32) -> u32 {
    RUNS.fetch_add(1, SeqCst);
    SOURCE.load(SeqCst) + id
}

/// Calls `price(1)` until this process keeps a near copy of it (the bus subscribes in the
/// background when the first near cache is made; until then nothing is kept).
fn warm() -> u32 {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let v = price(1);
        if price_cache().len() == 1 {
            return v;
        }
        assert!(Instant::now() < until, "no near copy kept within 10 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until this process's near copy is gone: how long it took.
fn dropped_within(limit: Duration) -> Duration {
    let start = Instant::now();
    while !price_cache().is_empty() {
        assert!(start.elapsed() < limit, "the near copy outlived {limit:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
    start.elapsed()
}

fn unix_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

fn signal(server: &RedisServer, sig: &str) {
    let pid = server.pid().unwrap().to_string();
    assert!(
        Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn another_processs_invalidations_of_every_kind_drop_the_near_copy() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    for (role, served_after) in [
        ("invalidate", 101),
        ("invalidate_all", 101),
        ("clear", 101),
        ("tag", 101),
        // The other process's refreshed value, from Redis.
        ("refresh", 501),
    ] {
        invalidate_price(1);
        SOURCE.store(100, SeqCst);
        assert_eq!(warm(), 101);
        let runs = RUNS.load(SeqCst);
        // Served from this process's memory: not even a paused Redis is noticed. (Unless
        // this thread was held up for a second, when the bus's PING finds the server paused
        // and drops every near copy, as it should: then the read is not checked.)
        let paused = Instant::now();
        signal(server, "-STOP");
        let errors = price_cache().stats().errors;
        assert_eq!(price(1), 101);
        if paused.elapsed() < Duration::from_millis(500) {
            assert_eq!(price_cache().stats().errors, errors, "the near copy served");
        } else {
            println!(
                "held up {:?} with the server paused: not checked",
                paused.elapsed()
            );
        }
        signal(server, "-CONT");
        warm();

        // The other process's change, after it has returned:
        let returned: u128 = REDIS.in_child(role).parse().unwrap();
        dropped_within(Duration::from_secs(5));
        let bound = Duration::from_micros(u64::try_from(unix_micros() - returned).unwrap());
        println!("near copy dropped at most {bound:?} after the other process's `{role}` returned");
        assert_eq!(price(1), served_after, "after {role}");
        let ran = RUNS.load(SeqCst) - runs;
        assert_eq!(ran, u32::from(role != "refresh"), "body runs after {role}");
    }
}

#[test]
fn a_lost_bus_connection_drops_every_near_copy_until_it_is_back() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    SOURCE.store(100, SeqCst);
    invalidate_price(1);
    warm();
    let killed = server.cli(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    assert_ne!(killed.trim(), "0", "no subscriber to kill: {killed}");
    let waited = dropped_within(Duration::from_secs(5));
    println!("near copies dropped {waited:?} after the bus connection was killed");
    // Subscribed again: copies are kept again.
    warm();
}

#[test]
fn a_near_copy_lives_at_most_near() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    SOURCE.store(100, SeqCst);
    invalidate_price(1);
    warm();
    memocache::testing::advance_clock(Duration::from_secs(31));
    // Past `near`, the copy is not served: the call asks Redis, which is paused here, so it
    // counts an error and runs the body.
    let errors = price_cache().stats().errors;
    let runs = RUNS.load(SeqCst);
    signal(server, "-STOP");
    assert_eq!(price(1), 101);
    signal(server, "-CONT");
    assert!(price_cache().stats().errors > errors);
    assert_eq!(RUNS.load(SeqCst), runs + 1);
}
