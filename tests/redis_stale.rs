//! `stale` with `redis`, against a real `redis-server`: an entry past its `ttl` is served
//! stale by every process while exactly one of them refreshes it, and an invalidation during
//! that refresh wins. The entry's remaining time in Redis is set with `PEXPIRE` (no test
//! sleeps through a TTL).
//!
//! The other processes are this binary again (`MEMOCACHE_TEST_CHILD` names what they do).
#![cfg(feature = "redis")]

#[path = "support/redis_server.rs"]
mod redis_server;

use memocache::cached;
use redis_server::RedisServer;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static SERVER: LazyLock<Option<RedisServer>> = LazyLock::new(|| {
    let url = std::env::var("MEMOCACHE_TEST_REDIS").ok();
    let server = match url {
        Some(_) => None,
        None => RedisServer::start(),
    };
    if let Some(s) = &server {
        s.stop_with_this_process();
    }
    if let Some(url) = url.or_else(|| server.as_ref().map(RedisServer::url)) {
        memocache::redis::init(
            memocache::redis::Config::from_url(&url)
                .unwrap()
                // Generous: the machine running the tests may be loaded; the fault tests
                // check the timeouts.
                .operation_timeout(std::time::Duration::from_secs(1)),
        )
        .unwrap();
    }
    server
});

static SERIAL: Mutex<()> = Mutex::new(());

fn server() -> Option<&'static RedisServer> {
    SERVER.as_ref()
}

fn unix_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn spawn_child(role: &str, at: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("MEMOCACHE_TEST_CHILD", role)
        .env("MEMOCACHE_TEST_REDIS", server().unwrap().url())
        .env("MEMOCACHE_TEST_AT", at.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

fn report(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "child: {out:?}");
    stdout
        .lines()
        .find_map(|l| l.split_once("REPORT ").map(|(_, r)| r.trim().to_owned()))
        .unwrap_or_else(|| panic!("no report: {stdout}"))
}

#[test]
fn child() {
    let Ok(role) = std::env::var("MEMOCACHE_TEST_CHILD") else {
        return;
    };
    LazyLock::force(&SERVER);
    let at: u64 = std::env::var("MEMOCACHE_TEST_AT").unwrap().parse().unwrap();
    SOURCE.store(200, SeqCst);
    let now = unix_ms();
    if at > now {
        std::thread::sleep(Duration::from_millis(at - now));
    }
    let report = match role.as_str() {
        "read" => format!("{} {}", quote(1), RUNS.load(SeqCst)),
        other => panic!("unknown role {other}"),
    };
    println!("REPORT {report}");
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
    let children: Vec<Child> = (0..3).map(|_| spawn_child("read", at)).collect();
    let mut reports: Vec<String> = children.into_iter().map(report).collect();
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
    let child = spawn_child("read", unix_ms());
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while server.cli(&["EXISTS", REFRESH]).trim() != "1" {
        assert!(std::time::Instant::now() < until, "no refresh started");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(invalidate_quote(1));
    assert_eq!(report(child), "201 1");
    // The refresh began before the invalidation: it stored nothing.
    assert_eq!(server.cli(&["EXISTS", KEY]).trim(), "0");
}
