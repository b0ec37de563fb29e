//! `#[cached(redis)]` against a real `redis-server` (one for this test binary, on a free
//! loopback port): entries shared by processes, invalidations that reach every process, a run
//! overtaken by an invalidation storing nothing, bad bytes read as misses, sync and `async fn`.
//!
//! Tests that need a second process run this binary again as a child (with
//! `MEMOCACHE_TEST_CHILD` naming what it does), pointed at the same server.
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
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

/// `clear_all` and `invalidate_tag` reach every cache and detach the runs in progress they
/// may cover (which then store nothing): the tests here count runs and entries, so one at a
/// time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The server of this binary (its children use it too).
static REDIS: Shared<RedisServer> = Shared::new(|c| c);

/// The server, or `None` after the skip line.
fn server() -> Option<&'static RedisServer> {
    REDIS.get()
}

/// The child's side: what it does for each role (run by `REDIS.in_child`).
#[test]
fn child() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(role) = REDIS.child_role() else {
        return;
    };
    let report = match role.as_str() {
        "quote" => {
            let before = QUOTE_RUNS.load(SeqCst);
            let price = quote("ACME");
            format!("price={price} ran={}", QUOTE_RUNS.load(SeqCst) - before)
        }
        "profile" => {
            let p = profile(7);
            format!("profile={} ran={}", p.name, PROFILE_RUNS.load(SeqCst))
        }
        "badge" => {
            let b = badge(3);
            format!("badge={b} ran={}", BADGE_RUNS.load(SeqCst))
        }
        other => panic!("unknown role {other}"),
    };
    redis_child::tell_parent(report);
}

static QUOTE_RUNS: AtomicU32 = AtomicU32::new(0);
static QUOTE_SOURCE: AtomicU32 = AtomicU32::new(100);

#[cached(ttl = "10m", redis, name = "test.quote")]
fn quote(symbol: &str) -> u32 {
    QUOTE_RUNS.fetch_add(1, SeqCst);
    QUOTE_SOURCE.load(SeqCst) + u32::try_from(symbol.len()).unwrap()
}

#[test]
fn a_second_process_is_served_what_the_first_one_computed() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(_) = server() else { return };
    assert_eq!(quote("ACME"), 104);
    assert_eq!(QUOTE_RUNS.load(SeqCst), 1);
    // A process that never computed it is served from Redis: its body does not run.
    assert_eq!(REDIS.in_child("quote"), "price=104 ran=0");
    let s = quote_cache().stats();
    assert_eq!((s.misses, s.errors), (1, 0));
    // Without `near`, nothing is kept in this process: the next call asks Redis again, and
    // is a hit there.
    assert_eq!(quote("ACME"), 104);
    assert_eq!(QUOTE_RUNS.load(SeqCst), 1);
    assert_eq!(quote_cache().stats().hits, 1);
    assert_eq!(quote_cache().len(), 0);
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
}

static PROFILE_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "test.profile")]
fn profile(id: u64) -> Profile {
    PROFILE_RUNS.fetch_add(1, SeqCst);
    Profile {
        id,
        name: format!("user {id} run {}", PROFILE_RUNS.load(SeqCst)),
    }
}

#[test]
fn an_invalidation_in_one_process_reaches_the_others_even_before_its_first_call() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    assert_eq!(REDIS.in_child("profile"), "profile=user 7 run 1 ran=1");
    assert_eq!(
        REDIS.in_child("profile"),
        "profile=user 7 run 1 ran=0",
        "served from Redis"
    );
    // This process never called `profile`: its invalidation still reaches Redis.
    assert!(invalidate_profile(7));
    assert_eq!(server.cli(&["EXISTS", "memocache:test.profile:7"]), "0");
    assert_eq!(
        REDIS.in_child("profile"),
        "profile=user 7 run 1 ran=1",
        "computed again"
    );
}

static BADGE_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "test.badge", tags = [format!("user:{id}")])]
fn badge(id: u64) -> String {
    BADGE_RUNS.fetch_add(1, SeqCst);
    format!("badge {id}")
}

#[test]
fn invalidate_tag_reaches_entries_of_functions_this_process_never_called() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(_) = server() else { return };
    assert_eq!(REDIS.in_child("badge"), "badge=badge 3 ran=1");
    assert_eq!(REDIS.in_child("badge"), "badge=badge 3 ran=0");
    // No cache of this process holds the entry: it is dropped in Redis.
    assert_eq!(memocache::invalidate_tag("user:3"), 0);
    assert_eq!(REDIS.in_child("badge"), "badge=badge 3 ran=1");
}

static SLOW_SOURCE: AtomicU32 = AtomicU32::new(1);
static SLOW_GATE: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);

#[cached(ttl = "10m", redis, name = "test.slow")]
fn slow(id: u64) -> u32 {
    let v = SLOW_SOURCE.load(SeqCst);
    let gate = SLOW_GATE.lock().unwrap().take();
    if let Some(gate) = gate {
        gate.recv_timeout(Duration::from_secs(30)).unwrap();
    }
    v + u32::try_from(id).unwrap()
}

#[test]
fn a_run_that_began_before_an_invalidation_stores_nothing_in_redis() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    let (open, gate) = mpsc::channel();
    *SLOW_GATE.lock().unwrap() = Some(gate);
    let reader = std::thread::spawn(|| slow(1));
    // The run holds the key's lease in Redis once it is in its body.
    while server.cli(&["EXISTS", "memocache:test.slow:1"]) != "1" {
        std::thread::yield_now();
    }
    SLOW_SOURCE.store(2, SeqCst);
    assert!(!invalidate_slow(1), "no value yet, only the run's lease");
    open.send(()).unwrap();
    assert_eq!(
        reader.join().unwrap(),
        2,
        "its caller still gets its answer"
    );
    assert_eq!(
        server.cli(&["EXISTS", "memocache:test.slow:1"]),
        "0",
        "but the run stored nothing"
    );
    assert_eq!(slow(1), 3, "the next call computes from the new data");
}

static BYTES_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "test.bytes")]
fn bytes(id: u64) -> Vec<u64> {
    BYTES_RUNS.fetch_add(1, SeqCst);
    vec![id; 3]
}

#[test]
fn garbage_under_a_key_is_a_miss_and_the_fresh_value_replaces_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    let key = "memocache:test.bytes:5";
    let set = |script: &str| {
        server.cli(&["EVAL", script, "1", key]);
    };
    assert_eq!(bytes(5), vec![5, 5, 5]);
    for garbage in [
        // Something else's bytes.
        "redis.call('SET', KEYS[1], 'not a memocache value')",
        "redis.call('SET', KEYS[1], string.char(0, 1, 2, 255, 254))",
        // A value of ours, truncated, and one with a byte flipped in the middle.
        "redis.call('SET', KEYS[1], string.sub(redis.call('GET', KEYS[1]), 1, 20))",
        "local v = redis.call('GET', KEYS[1]); local i = math.floor(#v / 2); \
         redis.call('SET', KEYS[1], string.sub(v, 1, i - 1) .. string.char((string.byte(v, i) + 1) % 256) .. string.sub(v, i + 1))",
    ] {
        if garbage.contains("GET") {
            // A good value first, to corrupt.
            bytes(5);
        }
        set(garbage);
        let before = BYTES_RUNS.load(SeqCst);
        assert_eq!(bytes(5), vec![5, 5, 5]);
        assert_eq!(
            BYTES_RUNS.load(SeqCst),
            before + 1,
            "read as a miss: {garbage}"
        );
        assert_eq!(bytes(5), vec![5, 5, 5]);
        assert_eq!(
            BYTES_RUNS.load(SeqCst),
            before + 1,
            "and overwritten by a good value"
        );
    }
    // Another kind of key altogether (a list) under the name.
    server.cli(&["DEL", "memocache:test.bytes:6"]);
    server.cli(&["RPUSH", "memocache:test.bytes:6", "x"]);
    assert_eq!(bytes(6), vec![6, 6, 6]);
    assert_eq!(bytes_cache().stats().errors, 0);
}

#[cached(ttl = "10m", redis, name = "test.shape")]
fn shape_v1(id: u64) -> (u64, u64) {
    (id, 1)
}

/// The same name, another value type: what `shape_v1` stored reads as a miss here.
#[cached(ttl = "10m", redis, name = "test.shape")]
fn shape_v2(id: u64) -> String {
    format!("shape {id}")
}

/// The same name and type, another `version`: a miss too.
#[cached(ttl = "10m", redis, name = "test.shape", version = "2")]
fn shape_v3(id: u64) -> String {
    format!("shape {id}, version 2")
}

#[test]
fn another_value_type_or_version_under_the_same_name_is_a_miss_never_garbage() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(_) = server() else { return };
    assert_eq!(shape_v1(1), (1, 1));
    assert_eq!(shape_v2(1), "shape 1", "the tuple is not read as a string");
    assert_eq!(shape_v3(1), "shape 1, version 2");
    assert_eq!(
        shape_v2(1),
        "shape 1",
        "each run overwrote the other's entry"
    );
    assert_eq!(shape_v1_cache().stats().errors, 0);
}

static LIST_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "test.list")]
fn listing(id: u64) -> u64 {
    LIST_RUNS.fetch_add(1, SeqCst);
    id * 2
}

#[test]
fn invalidate_all_drops_every_entry_of_the_function_in_redis() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    for id in 0..500 {
        listing(id);
    }
    assert_eq!(
        server.cli(&[
            "EVAL",
            "return #redis.call('KEYS', 'memocache:test.list:*')",
            "0"
        ]),
        "500"
    );
    invalidate_all_listing();
    assert_eq!(
        server.cli(&[
            "EVAL",
            "return #redis.call('KEYS', 'memocache:test.list:*')",
            "0"
        ]),
        "0"
    );
    let before = LIST_RUNS.load(SeqCst);
    listing(1);
    assert_eq!(LIST_RUNS.load(SeqCst), before + 1);
}

static FLAKY_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "test.flaky")]
fn flaky(id: u64) -> Result<u64, String> {
    let run = FLAKY_RUNS.fetch_add(1, SeqCst);
    if run == 0 {
        Err("upstream down".into())
    } else {
        Ok(id)
    }
}

#[test]
fn only_ok_is_stored_in_redis() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    assert_eq!(flaky(1), Err("upstream down".into()));
    // The lease goes back without the caller waiting for it (as from a destructor): soon.
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while server.cli(&["EXISTS", "memocache:test.flaky:1"]) != "0" {
        assert!(
            std::time::Instant::now() < until,
            "the lease never went back"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(flaky(1), Ok(1));
    assert_eq!(flaky(1), Ok(1));
    assert_eq!(FLAKY_RUNS.load(SeqCst), 2);
}

static FETCHES: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "test.fetch")]
async fn fetch(id: u64) -> String {
    FETCHES.fetch_add(1, SeqCst);
    tokio::task::yield_now().await;
    format!("row {id}")
}

#[test]
fn async_fns_use_redis_on_any_executor() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(_) = server() else { return };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..16).map(|_| tokio::spawn(fetch(1))).collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), "row 1");
        }
    });
    let runs = FETCHES.load(SeqCst);
    assert!(
        runs <= 2,
        "one run per cold key for a burst, not one per caller: {runs}"
    );
    assert_eq!(futures::executor::block_on(fetch(1)), "row 1");
    assert_eq!(smol::block_on(fetch(1)), "row 1");
    assert_eq!(FETCHES.load(SeqCst), runs, "served from Redis");
    assert!(futures::executor::block_on(invalidate_fetch(1)));
    assert_eq!(futures::executor::block_on(fetch(1)), "row 1");
    assert_eq!(FETCHES.load(SeqCst), runs + 1);
    futures::executor::block_on(invalidate_all_fetch());
}

struct Repo;

impl Repo {
    #[cached(ttl = "10m", redis, name = "test.repo.user")]
    fn user(&self, id: u64) -> String {
        format!("repo user {id}")
    }
}

#[test]
fn methods_use_redis_too() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(server) = server() else { return };
    assert_eq!(Repo.user(4), "repo user 4");
    assert_eq!(server.cli(&["EXISTS", "memocache:test.repo.user:4"]), "1");
    assert!(Repo::invalidate_user(4));
}
