//! The near cache and the fleet's single-flight, measured against a real `redis-server` this
//! program starts on a free loopback port; prints two tables (results in BENCHMARKS.md,
//! section Redis).
//!
//! ```text
//! cargo bench -p memocache-benches --features redis --bench fleet
//! ```
//!
//! 1. **Hits**: ns per call of a hit on `f(u64) -> u64`, one thread, 5 runs of 2 M calls each
//!    (median and range): in memory (`ttl = "10m"`), a near hit (`redis, near = "1m"`), and a
//!    Redis hit without `near` (a round trip).
//! 2. **A cold key under 3 processes x 32 threads**, all calling at the same instant, the body a
//!    50 ms query: how many times the body ran in all, and the time to the first and to the
//!    last answer, with the entries in memory (every process computes it) and in Redis (the
//!    fleet computes it once).
//!
//! Where `redis-server` is missing it prints `skipped: redis-server not found` and exits.

#[path = "../tests/support/redis_server.rs"]
mod redis_server;

use redis_server::RedisServer;
use std::hint::black_box;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CALLS: u64 = 2_000_000;
const KEYS: u64 = 1024;

#[memocache::cached(ttl = "10m", name = "fleet.memory_hit")]
fn memory_hit(id: u64) -> u64 {
    id * 3
}

#[memocache::cached(ttl = "10m", redis, near = "1m", name = "fleet.near_hit")]
fn near_hit(id: u64) -> u64 {
    id * 3
}

#[memocache::cached(ttl = "10m", redis, name = "fleet.redis_hit")]
fn redis_hit(id: u64) -> u64 {
    id * 3
}

static RUNS: AtomicU32 = AtomicU32::new(0);

#[memocache::cached(ttl = "10m", name = "fleet.cold_memory")]
fn cold_memory(id: u64) -> u64 {
    RUNS.fetch_add(1, SeqCst);
    std::thread::sleep(Duration::from_millis(50));
    id
}

#[memocache::cached(ttl = "10m", redis, name = "fleet.cold_redis")]
fn cold_redis(id: u64) -> u64 {
    RUNS.fetch_add(1, SeqCst);
    std::thread::sleep(Duration::from_millis(50));
    id
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

/// ns per call of `f` over `calls` calls on `KEYS` keys, median and range of 5 runs.
fn time(f: fn(u64) -> u64, calls: u64) -> (f64, f64, f64) {
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for i in 0..calls {
                black_box(f(black_box(i % KEYS)));
            }
            start.elapsed().as_nanos() as f64 / calls as f64
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    (runs[2], runs[0], runs[4])
}

/// A child: 32 threads call the cold key at `at`; prints runs, first and last answer (ms
/// after `at`).
fn child(role: &str, at: u64) {
    let f: fn(u64) -> u64 = if role == "redis" {
        cold_redis
    } else {
        cold_memory
    };
    let now = unix_ms();
    if at > now {
        std::thread::sleep(Duration::from_millis(at - now));
    }
    let start = Instant::now();
    let mut times: Vec<u128> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32)
            .map(|_| {
                s.spawn(move || {
                    assert_eq!(f(7), 7);
                    start.elapsed().as_millis()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    times.sort_unstable();
    println!("REPORT {} {} {}", RUNS.load(SeqCst), times[0], times[31]);
}

fn main() {
    if let (Ok(role), Ok(at)) = (
        std::env::var("MEMOCACHE_BENCH_CHILD"),
        std::env::var("MEMOCACHE_BENCH_AT"),
    ) {
        memocache::redis::init(
            memocache::redis::Config::from_url(&std::env::var("MEMOCACHE_BENCH_REDIS").unwrap())
                .unwrap(),
        )
        .unwrap();
        child(&role, at.parse().unwrap());
        return;
    }
    // `cargo bench` passes `--bench`; a filter, if any, is ignored.
    let Some(server) = RedisServer::start() else {
        return;
    };
    memocache::redis::init(memocache::redis::Config::from_url(&server.url()).unwrap()).unwrap();

    // 1. Hits. The near cache keeps copies once its bus is subscribed: warm until it does.
    let until = Instant::now() + Duration::from_secs(10);
    while near_hit_cache().len() < KEYS as usize && Instant::now() < until {
        for i in 0..KEYS {
            near_hit(i);
        }
    }
    for i in 0..KEYS {
        memory_hit(i);
        redis_hit(i);
    }
    let memory = time(memory_hit, CALLS);
    let near = time(near_hit, CALLS);
    let redis = time(redis_hit, CALLS / 100);
    println!(
        "\n| hit on `f(u64) -> u64`, 1 thread | ns per call (median of 5) | range | vs memory |"
    );
    println!("|---|---:|---:|---:|");
    for (name, (m, lo, hi)) in [
        ("in memory (`ttl`)", memory),
        ("near copy (`redis, near`)", near),
        ("Redis, no `near` (a round trip)", redis),
    ] {
        println!(
            "| {name} | {m:.1} | {lo:.1}-{hi:.1} | {:.2} x |",
            m / memory.0
        );
    }
    let s = near_hit_cache().stats();
    println!(
        "(near cache: {} hits, {} misses, {} errors)",
        s.hits, s.misses, s.errors
    );

    // 2. A cold key under 3 processes x 32 threads.
    println!(
        "\n| cold key, 3 processes x 32 threads, 50 ms body | body runs | first answer | last answer |"
    );
    println!("|---|---:|---:|---:|");
    for role in ["memory", "redis"] {
        let at = unix_ms() + 1500;
        let children: Vec<_> = (0..3)
            .map(|_| {
                Command::new(std::env::current_exe().unwrap())
                    .env("MEMOCACHE_BENCH_CHILD", role)
                    .env("MEMOCACHE_BENCH_AT", at.to_string())
                    .env("MEMOCACHE_BENCH_REDIS", server.url())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let (mut runs, mut first, mut last) = (0u32, u128::MAX, 0u128);
        for c in children {
            let out = c.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let report = stdout
                .lines()
                .find_map(|l| l.strip_prefix("REPORT "))
                .unwrap_or_else(|| panic!("no report: {stdout}"));
            let v: Vec<u128> = report.split(' ').map(|x| x.parse().unwrap()).collect();
            runs += u32::try_from(v[0]).unwrap();
            first = first.min(v[1]);
            last = last.max(v[2]);
        }
        let name = match role {
            "memory" => "in memory: each process",
            _ => "`redis`: the fleet",
        };
        println!("| {name} | {runs} | {first} ms | {last} ms |");
    }
}
