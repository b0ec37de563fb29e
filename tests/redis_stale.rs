//! `stale` with `redis`, against a real `redis-server`: an entry past its `ttl` is served
//! stale by every process while exactly one of them refreshes it, and an invalidation during
//! that refresh wins. The entry's remaining time in Redis is set with `PEXPIRE` (no test
//! sleeps through a TTL).
//!
//! The other processes are this binary again (`MEMOCACHE_TEST_CHILD` names what they do).
#![cfg(feature = "redis")]

#[path = "support/at_once.rs"]
mod at_once;
#[path = "support/redis_child.rs"]
mod redis_child;
#[path = "support/redis_server.rs"]
mod redis_server;
#[path = "support/redis_shared.rs"]
mod redis_shared;

use at_once::{spawn_at, unix_ms, wait_for_start};
use memocache::cached;
use redis_child::report;
use redis_server::RedisServer;
use redis_shared::Shared;
use std::process::Child;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

static REDIS: Shared<RedisServer> = Shared::new(|c| c);

static SERIAL: Mutex<()> = Mutex::new(());

fn server() -> Option<&'static RedisServer> {
    REDIS.get()
}

#[test]
fn child() {
    let Some(role) = REDIS.child_role() else {
        return;
    };
    SOURCE.store(200, SeqCst);
    wait_for_start();
    let report = match role.as_str() {
        "read" => format!("{} {}", quote(1), RUNS.load(SeqCst)),
        other => panic!("unknown role {other}"),
    };
    redis_child::tell_parent(report);
}

static RUNS: AtomicU32 = AtomicU32::new(0);
static SOURCE: AtomicU32 = AtomicU32::new(100);

#[cached(ttl = "10m", stale = "1h", redis, name = "stale.quote")]
fn quote(id: u32) -> u32 {
    RUNS.fetch_add(1, SeqCst);
    std::thread::sleep(Duration::from_millis(400));
    SOURCE.load(SeqCst) + id
}

const KEY: &str = "memocache:stale.quote:1";
/// The key whose owner refreshes it.
const REFRESH: &str = "memocache:#refresh:memocache:stale.quote:1";

/// Puts the entry 30 minutes into its stale window (its `ttl` ran out, `stale` has not).
fn make_stale(server: &RedisServer) {
    assert_eq!(server.cli(&["PEXPIRE", KEY, "1800000"]).trim(), "1");
}

#[test]
fn a_stale_entry_is_served_by_every_process_while_one_refreshes_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    invalidate_quote(1);
    assert_eq!(quote(1), 101);
    let pttl: u64 = server.cli(&["PTTL", KEY]).trim().parse().unwrap();
    assert!(
        pttl > 3_600_000,
        "the entry lives ttl + stale in Redis: {pttl}"
    );
    make_stale(server);

    // Three processes whose source now says 200, at the same instant.
    let at = unix_ms() + 1000;
    let children: Vec<Child> = (0..3)
        .map(|_| spawn_at(REDIS.command("read"), at))
        .collect();
    let mut reports: Vec<String> = children.into_iter().map(|c| report(c, "read")).collect();
    reports.sort();
    println!("stale window, 3 processes: {reports:?}");
    // One refreshed (its caller answered with the fresh value), two were served the stale one.
    assert_eq!(reports, ["101 0", "101 0", "201 1"]);
    // Refreshed in Redis: fresh again for every process.
    let pttl: u64 = server.cli(&["PTTL", KEY]).trim().parse().unwrap();
    assert!(pttl > 3_600_000, "refreshed entry: {pttl}");
    assert_eq!(
        server.cli(&["EXISTS", REFRESH]).trim(),
        "0",
        "the right was given back"
    );
    let runs = RUNS.load(SeqCst);
    assert_eq!(quote(1), 201);
    assert_eq!(RUNS.load(SeqCst), runs);
}

#[test]
fn an_invalidation_during_a_stale_refresh_wins() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    invalidate_quote(1);
    SOURCE.store(100, SeqCst);
    assert_eq!(quote(1), 101);
    make_stale(server);
    // A child refreshes (a 400 ms body); this process invalidates meanwhile.
    let child = spawn_at(REDIS.command("read"), unix_ms());
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while server.cli(&["EXISTS", REFRESH]).trim() != "1" {
        assert!(std::time::Instant::now() < until, "no refresh started");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(invalidate_quote(1));
    assert_eq!(report(child, "read"), "201 1");
    // The refresh began before the invalidation: it stored nothing.
    assert_eq!(server.cli(&["EXISTS", KEY]).trim(), "0");
}
