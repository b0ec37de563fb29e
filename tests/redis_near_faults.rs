//! Near copies through Redis outages, against a real `redis-server` that the test kills,
//! restarts and pauses (`SIGSTOP`) while another process keeps changing the data and
//! invalidating, and this one keeps reading: every value served is one the body computed for
//! that key, and none is older than an invalidation that returned for longer than the bus
//! needs to notice an outage (the measured staleness is printed).
//!
//! The source of truth is a file both processes read (it survives the outages); the other
//! process is this binary again (`MEMOCACHE_TEST_CHILD`).
#![cfg(feature = "redis")]

#[path = "support/at_once.rs"]
mod at_once;
#[path = "support/redis_child.rs"]
mod redis_child;
#[path = "support/redis_server.rs"]
mod redis_server;

use at_once::{sleep_until, unix_ms};
use memocache::cached;
use redis_server::RedisServer;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// The directory of the files: the parent's choice, handed to the child in
/// `MEMOCACHE_TEST_DIR`.
static DIR: OnceLock<PathBuf> = OnceLock::new();

/// The source of truth and what the writer published.
fn files() -> (PathBuf, PathBuf) {
    let dir = DIR.get_or_init(|| PathBuf::from(std::env::var("MEMOCACHE_TEST_DIR").unwrap()));
    (dir.join("source"), dir.join("published"))
}

/// Writes `text` to `path` at once (a rename): readers never see half of it.
fn put(path: &PathBuf, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A file's number (0 before the first write).
fn read(path: &PathBuf) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// The value for `key` at the source's version: the key is in it, so a value of another key
/// (or garbage) is told apart.
#[cached(ttl = "10m", redis, near = "1m", name = "nearfaults.item")]
fn item(key: u64) -> u64 {
    read(&files().0) * 100 + key
}

fn init(url: &str) {
    let config = memocache::redis::Config::from_url(url)
        .unwrap()
        .operation_timeout(Duration::from_millis(100));
    memocache::redis::init(config).unwrap();
}

#[test]
fn child() {
    if redis_child::role().as_deref() != Some("writer") {
        return;
    }
    init(&std::env::var("MEMOCACHE_TEST_REDIS").unwrap());
    let until: u64 = std::env::var("MEMOCACHE_TEST_UNTIL")
        .unwrap()
        .parse()
        .unwrap();
    let (source, published) = files();
    let mut version = read(&source);
    while unix_ms() < until {
        version += 1;
        put(&source, &version.to_string());
        invalidate_item(version % 4);
        // "version v, invalidated at t": for the readers' staleness measure.
        put(&published, &format!("{version}"));
        std::fs::write(
            published.with_extension(format!("at{version}")),
            unix_ms().to_string(),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    redis_child::tell_parent(version);
}

#[test]
fn near_copies_through_kill_restart_and_pause_serve_right_values_and_stay_fresh() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("memocache-nearfaults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    DIR.set(dir.clone()).unwrap();
    init(&server.url());
    let (source, published) = files();
    put(&source, "1");
    put(&published, "1");

    let until = unix_ms() + 6_000;
    let writer = redis_child::command("writer", &server.url())
        .env("MEMOCACHE_TEST_DIR", &dir)
        .env("MEMOCACHE_TEST_UNTIL", until.to_string())
        .spawn()
        .unwrap();

    let stop = AtomicBool::new(false);
    let (reads, stale, worst, wrong) = (
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    );
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (stop, reads, stale, worst, wrong) = (&stop, &reads, &stale, &worst, &wrong);
            let (published, source) = (&published, &source);
            s.spawn(move || {
                while !stop.load(SeqCst) {
                    let key = t;
                    let before = read(published);
                    let v = item(key);
                    reads.fetch_add(1, SeqCst);
                    if v % 100 != key || v / 100 > read(source) {
                        wrong.fetch_add(1, SeqCst);
                    }
                    // Older than the latest invalidation of this key that had returned?
                    let newest = (1..=before).rev().find(|ver| ver % 4 == key);
                    if let Some(ver) = newest
                        && v / 100 < ver
                    {
                        stale.fetch_add(1, SeqCst);
                        let at =
                            std::fs::read_to_string(published.with_extension(format!("at{ver}")))
                                .ok()
                                .and_then(|s| s.trim().parse::<u64>().ok());
                        if let Some(at) = at {
                            worst.fetch_max(unix_ms().saturating_sub(at), SeqCst);
                        }
                    }
                }
            });
        }
        // The outages, while all of that runs.
        std::thread::sleep(Duration::from_millis(1000));
        server.kill();
        std::thread::sleep(Duration::from_millis(500));
        server.restart();
        std::thread::sleep(Duration::from_millis(1500));
        server.pause();
        std::thread::sleep(Duration::from_millis(500));
        server.resume();
        sleep_until(until + 200);
        stop.store(true, SeqCst);
    });
    let written = redis_child::report(writer, "writer");
    let (reads, stale, worst, wrong) = (
        reads.load(SeqCst),
        stale.load(SeqCst),
        worst.load(SeqCst),
        wrong.load(SeqCst),
    );
    println!(
        "{reads} reads through a kill, a restart and a pause: {wrong} wrong, {stale} older than \
         a returned invalidation, the oldest by {worst} ms; {written} versions written"
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(reads > 1000, "too few reads to tell: {reads}");
    assert_eq!(wrong, 0, "a value the body did not compute for that key");
    // A near copy is dropped when the bus hears the invalidation, or notices the outage (a
    // PING every second): never much later.
    assert!(
        worst < 2_500,
        "a near copy served {worst} ms after its invalidation"
    );
    // Afterwards, fresh values again.
    let now = read(&source);
    let until = Instant::now() + Duration::from_secs(5);
    while (0..4).any(|k| item(k) / 100 < now) {
        assert!(
            Instant::now() < until,
            "stale values after the outages ended"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
