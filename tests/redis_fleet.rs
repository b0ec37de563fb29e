//! Single-flight across processes, against a real `redis-server`: a cold key computed once by
//! three processes of eight threads each (sync and `async fn`), a long body keeping its lease,
//! and a lease holder killed with `SIGKILL` mid-run costing the others at most the lease.
//!
//! The other processes are this binary again (`MEMOCACHE_TEST_CHILD` names what they do);
//! they start their calls at the same instant (`MEMOCACHE_TEST_AT`, Unix milliseconds).
#![cfg(feature = "redis")]

#[path = "support/at_once.rs"]
mod at_once;
#[path = "support/redis_child.rs"]
mod redis_child;
#[path = "support/redis_server.rs"]
mod redis_server;
#[path = "support/redis_shared.rs"]
mod redis_shared;

use at_once::{sleep_until, spawn_at, unix_ms, wait_for_start};
use memocache::cached;
use redis_child::report;
use redis_server::RedisServer;
use redis_shared::Shared;
use std::process::Child;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// The lease of this binary's processes: short, so that a killed holder costs little.
const LEASE: Duration = Duration::from_millis(600);

static REDIS: Shared<RedisServer> = Shared::new(|c| c.lease(LEASE));

static SERIAL: Mutex<()> = Mutex::new(());

fn server() -> Option<&'static RedisServer> {
    REDIS.get()
}

#[test]
fn child() {
    let Some(role) = REDIS.child_role() else {
        return;
    };
    let report = match role.as_str() {
        "burst" => {
            wait_for_start();
            burst_of_threads();
            format!("{}", SLOW_RUNS.load(SeqCst))
        }
        "burst_async" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
                .enable_all()
                .build()
                .unwrap();
            wait_for_start();
            rt.block_on(burst_of_tasks());
            format!("{}", SLOW_ASYNC_RUNS.load(SeqCst))
        }
        "long" => {
            wait_for_start();
            format!("{} {}", long(1), LONG_RUNS.load(SeqCst))
        }
        "hold_forever" => {
            // Takes the lease, and is killed mid-run by the parent.
            held(1);
            unreachable!("killed before its body returns");
        }
        other => panic!("unknown role {other}"),
    };
    redis_child::tell_parent(report);
}

static SLOW_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "fleet.slow")]
fn slow(id: u32) -> u32 {
    SLOW_RUNS.fetch_add(1, SeqCst);
    std::thread::sleep(Duration::from_millis(300));
    id * 10
}

/// Eight threads call four keys, twice each: every answer must be right.
fn burst_of_threads() {
    std::thread::scope(|s| {
        for t in 0..8u32 {
            s.spawn(move || {
                for i in 0..8u32 {
                    let id = (t + i) % 4;
                    assert_eq!(slow(id), id * 10);
                }
            });
        }
    });
}

static SLOW_ASYNC_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "fleet.slow_async")]
async fn slow_async(id: u32) -> u32 {
    SLOW_ASYNC_RUNS.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    id * 10
}

async fn burst_of_tasks() {
    let tasks: Vec<_> = (0..32u32)
        .map(|t| {
            tokio::spawn(async move {
                let id = t % 4;
                assert_eq!(slow_async(id).await, id * 10);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// Three processes of eight threads (or 32 tasks) each, all at once: how many times the
/// bodies ran in all.
fn fleet_runs(role: &str) -> u32 {
    let at = unix_ms() + 1500;
    let children: Vec<Child> = (0..3).map(|_| spawn_at(REDIS.command(role), at)).collect();
    children
        .into_iter()
        .map(|c| report(c, role).parse::<u32>().unwrap())
        .sum()
}

#[test]
fn a_cold_key_is_computed_once_by_the_whole_fleet() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(_) = server() else { return };
    let runs = fleet_runs("burst");
    println!("3 processes x 8 threads, 4 cold keys: {runs} body runs");
    assert_eq!(runs, 4, "each cold key once for the whole fleet");
}

#[test]
fn a_cold_key_is_computed_once_by_the_whole_fleet_async() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(_) = server() else { return };
    let runs = fleet_runs("burst_async");
    println!("3 processes x 32 tasks, 4 cold keys: {runs} body runs");
    assert_eq!(runs, 4, "each cold key once for the whole fleet");
}

static LONG_RUNS: AtomicU32 = AtomicU32::new(0);

/// Runs for four leases: only an extended lease keeps the others waiting for it.
#[cached(ttl = "10m", redis, name = "fleet.long")]
fn long(id: u32) -> u32 {
    LONG_RUNS.fetch_add(1, SeqCst);
    std::thread::sleep(LEASE * 4);
    id + 1000
}

#[test]
fn a_long_body_keeps_its_lease_and_the_others_wait_for_its_value() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(_) = server() else { return };
    let at = unix_ms() + 1000;
    let child = spawn_at(REDIS.command("long"), at);
    // Well after the child took the lease.
    sleep_until(at + 200);
    let start = Instant::now();
    assert_eq!(long(1), 1001);
    let waited = start.elapsed();
    assert_eq!(report(child, "long"), "1001 1");
    println!(
        "waited {waited:?} for the other process's {:?} body",
        LEASE * 4
    );
    assert_eq!(
        LONG_RUNS.load(SeqCst),
        0,
        "this process waited, it did not run the body"
    );
}

static HELD_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "fleet.held")]
fn held(id: u32) -> u32 {
    HELD_RUNS.fetch_add(1, SeqCst);
    if std::env::var_os("MEMOCACHE_TEST_CHILD").is_some() {
        std::thread::sleep(Duration::from_secs(600));
    }
    id + 7
}

#[test]
fn a_lease_holder_killed_mid_run_costs_the_others_at_most_the_lease() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    let mut child = spawn_at(REDIS.command("hold_forever"), unix_ms());
    // The child holds the lease once the key exists.
    let until = Instant::now() + Duration::from_secs(10);
    while server.cli(&["EXISTS", "memocache:fleet.held:1"]).trim() != "1" {
        assert!(Instant::now() < until, "the child never took the lease");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = Instant::now();
    assert_eq!(held(1), 8);
    let took = killed.elapsed();
    println!("answered {took:?} after the holder was killed (lease {LEASE:?})");
    assert_eq!(HELD_RUNS.load(SeqCst), 1);
    // This process took the key over (its lease ran out) rather than giving up waiting: its
    // value is stored for the others.
    assert_eq!(
        server.cli(&["EXISTS", "memocache:fleet.held:1"]).trim(),
        "1"
    );
    // At most the lease (plus one poll and the round trips), with a wide margin.
    assert!(took < LEASE * 5, "took {took:?}");
}
