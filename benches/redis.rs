//! memocache's Redis hit side by side with a raw `redis` crate `GET` of the same bytes and with
//! the `cached` crate's Redis stores, against a real `redis-server` this program starts on a
//! free loopback port (results in BENCHMARKS.md, section Redis).
//!
//! ```text
//! cargo bench -p memocache-benches --features redis --bench redis
//! ```
//!
//! | id | how |
//! |---|---|
//! | `memocache` | `#[memocache::cached(ttl = "10m", redis)]` on a sync `fn` and an `async fn` |
//! | `raw_get` | `GET` of the very key memocache stored (its bytes, not decoded): a sync `redis::Connection`, or a `MultiplexedConnection` on the caller's tokio runtime |
//! | `raw_script` | the same connections sending what memocache's lookup does on a hit (`EVALSHA` of a script: `GET`, then `PTTL`) |
//! | `cached` | `#[cached::macros::concurrent_cached]` with `ty = "cached::RedisCache<..>"` (sync, r2d2 pool) or `cached::AsyncRedisCache` (async), the same body returning `Result` |
//!
//! Groups: `redis_sync` and `redis_async` (one caller, ns per call), `redis_100_tasks` (100
//! tokio tasks on a 2-worker runtime) and `redis_100_threads` (100 threads), ns per call
//! over all callers, each caller on a key of its own, plus a `hot` row where all 100 share
//! one key. Every call is a Redis hit: the entries are stored before measuring, and the
//! stats printed at the end show no miss and no error was counted while measuring.
//!
//! Where `redis-server` is missing it prints `skipped: redis-server not found` and exits.

#[path = "../tests/support/redis_server.rs"]
mod redis_server;

use criterion::{Criterion, Throughput};
use redis_server::RedisServer;
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::time::{Duration, Instant};

const CALLERS: usize = 100;

/// The server's URL, for the `cached` crate's stores (built on first use).
static URL: OnceLock<String> = OnceLock::new();

/// A typical small row: 109 bytes as MessagePack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    id: u64,
    name: String,
    email: String,
    roles: Vec<String>,
    score: f64,
}

fn make(id: u64) -> Profile {
    Profile {
        id,
        name: format!("User Number {id}"),
        email: format!("user.{id}@example.com"),
        roles: vec!["reader".into(), "editor".into()],
        score: id as f64 * 1.5,
    }
}

#[memocache::cached(ttl = "10m", redis, name = "bench.profile")]
fn mc_profile(id: u64) -> Profile {
    make(id)
}

#[memocache::cached(ttl = "10m", redis, name = "bench.profile_async")]
async fn mc_profile_async(id: u64) -> Profile {
    make(id)
}

#[cached::macros::concurrent_cached(
    ty = "cached::RedisCache<u64, Profile>",
    create = r##"{
        cached::RedisCache::builder("bench_profile")
            .ttl(Duration::from_secs(600))
            .connection_string(URL.get().expect("the server runs"))
            .build()
            .expect("a RedisCache")
    }"##,
    map_error = r##"|e| format!("{e:?}")"##
)]
fn cached_profile(id: u64) -> Result<Profile, String> {
    Ok(make(id))
}

#[cached::macros::concurrent_cached(
    ty = "cached::AsyncRedisCache<u64, Profile>",
    create = r##"{
        cached::AsyncRedisCache::builder("bench_profile_async")
            .ttl(Duration::from_secs(600))
            .connection_string(URL.get().expect("the server runs"))
            .build()
            .await
            .expect("an AsyncRedisCache")
    }"##,
    map_error = r##"|e| format!("{e:?}")"##
)]
async fn cached_profile_async(id: u64) -> Result<Profile, String> {
    Ok(make(id))
}

/// The key memocache stored `mc_profile(id)` under (the raw `GET`s read it).
fn mc_key(id: u64) -> String {
    format!("memocache:bench.profile:{id}")
}

fn get(key: &str) -> redis::Cmd {
    redis::cmd("GET").arg(key).clone()
}

/// What memocache's lookup script does on a hit (GET, then PTTL, in Lua), sent raw: how much
/// of a hit is the script rather than the client.
fn hit_script() -> redis::Script {
    redis::Script::new(
        "local ok, v = pcall(redis.call, 'GET', KEYS[1])\n\
         if ok and v then return {1, redis.call('PTTL', KEYS[1]), v} end\n\
         return {0}",
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One caller, sync: memocache, a raw `GET`, cached's `RedisCache`.
fn serial_sync(c: &mut Criterion, client: &redis::Client) {
    let mut con = client.get_connection().unwrap();
    let key = mc_key(7);
    let mut g = c.benchmark_group("redis_sync");
    g.throughput(Throughput::Elements(1));
    g.bench_function("memocache", |b| b.iter(|| mc_profile(black_box(7))));
    g.bench_function("raw_get", |b| {
        b.iter(|| get(black_box(&key)).query::<Vec<u8>>(&mut con).unwrap())
    });
    let script = hit_script();
    g.bench_function("raw_script", |b| {
        b.iter(|| {
            let v: redis::Value = script.key(black_box(&key)).invoke(&mut con).unwrap();
            v
        })
    });
    g.bench_function("cached", |b| {
        b.iter(|| cached_profile(black_box(7)).unwrap())
    });
    g.finish();
}

/// One caller, async on tokio: memocache, a raw multiplexed `GET`, cached's `AsyncRedisCache`.
fn serial_async(c: &mut Criterion, client: &redis::Client, rt: &tokio::runtime::Runtime) {
    let con = rt
        .block_on(client.get_multiplexed_async_connection())
        .unwrap();
    let key = mc_key(7);
    let mut g = c.benchmark_group("redis_async");
    g.throughput(Throughput::Elements(1));
    g.bench_function("memocache", |b| {
        b.to_async(rt).iter(|| mc_profile_async(black_box(7)))
    });
    g.bench_function("raw_get", |b| {
        b.to_async(rt).iter(|| {
            let (mut con, key) = (con.clone(), key.clone());
            async move { get(&key).query_async::<Vec<u8>>(&mut con).await.unwrap() }
        })
    });
    let script = hit_script();
    g.bench_function("raw_script", |b| {
        b.to_async(rt).iter(|| {
            let (mut con, key, script) = (con.clone(), key.clone(), &script);
            async move {
                let v: redis::Value = script.key(&key).invoke_async(&mut con).await.unwrap();
                v
            }
        })
    });
    g.bench_function("cached", |b| {
        b.to_async(rt)
            .iter(|| async { cached_profile_async(black_box(7)).await.unwrap() })
    });
    g.finish();
}

/// `iters` calls spread over [`CALLERS`] callers (each `per` calls): the time for `iters`.
fn share(iters: u64) -> (u64, f64) {
    let per = iters.div_ceil(CALLERS as u64).max(1);
    (per, iters as f64 / (per * CALLERS as u64) as f64)
}

/// 100 tokio tasks at once on a 2-worker runtime; `call(caller)` is one call.
fn tasks<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, call: F) -> Duration
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (per, scale) = share(iters);
    rt.block_on(async {
        let barrier = Arc::new(tokio::sync::Barrier::new(CALLERS + 1));
        let handles: Vec<_> = (0..CALLERS)
            .map(|i| {
                let (barrier, call) = (barrier.clone(), call.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    for _ in 0..per {
                        call(i).await;
                    }
                })
            })
            .collect();
        barrier.wait().await;
        let start = Instant::now();
        for h in handles {
            h.await.unwrap();
        }
        start.elapsed().mul_f64(scale)
    })
}

/// 100 threads at once; `call(caller)` is one call.
fn threads(iters: u64, call: &(dyn Fn(usize) + Sync)) -> Duration {
    let (per, scale) = share(iters);
    let barrier = Barrier::new(CALLERS + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..CALLERS)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    for _ in 0..per {
                        call(i);
                    }
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for h in handles {
            h.join().unwrap();
        }
        start.elapsed().mul_f64(scale)
    })
}

fn concurrent_async(c: &mut Criterion, client: &redis::Client, rt: &tokio::runtime::Runtime) {
    let con = rt
        .block_on(client.get_multiplexed_async_connection())
        .unwrap();
    let keys: Arc<Vec<String>> = Arc::new((0..CALLERS as u64).map(mc_key).collect());
    let mut g = c.benchmark_group("redis_100_tasks");
    g.throughput(Throughput::Elements(1));
    g.bench_function("memocache", |b| {
        b.iter_custom(|n| {
            tasks(rt, n, |i| async move {
                black_box(mc_profile_async(i as u64).await);
            })
        })
    });
    g.bench_function("raw_get", |b| {
        b.iter_custom(|n| {
            let (con, keys) = (con.clone(), keys.clone());
            tasks(rt, n, move |i| {
                let (mut con, keys) = (con.clone(), keys.clone());
                async move {
                    black_box(
                        get(&keys[i])
                            .query_async::<Vec<u8>>(&mut con)
                            .await
                            .unwrap(),
                    );
                }
            })
        })
    });
    g.bench_function("cached", |b| {
        b.iter_custom(|n| {
            tasks(rt, n, |i| async move {
                black_box(cached_profile_async(i as u64).await.unwrap());
            })
        })
    });
    g.bench_function("memocache_hot", |b| {
        b.iter_custom(|n| {
            tasks(rt, n, |_| async move {
                black_box(mc_profile_async(0).await);
            })
        })
    });
    g.bench_function("raw_get_hot", |b| {
        b.iter_custom(|n| {
            let (con, keys) = (con.clone(), keys.clone());
            tasks(rt, n, move |_| {
                let (mut con, keys) = (con.clone(), keys.clone());
                async move {
                    black_box(
                        get(&keys[0])
                            .query_async::<Vec<u8>>(&mut con)
                            .await
                            .unwrap(),
                    );
                }
            })
        })
    });
    g.finish();
}

fn concurrent_sync(c: &mut Criterion, client: &redis::Client) {
    // One connection per raw caller: the best a raw client can do with 100 threads.
    let cons: Vec<Mutex<redis::Connection>> = (0..CALLERS)
        .map(|_| Mutex::new(client.get_connection().unwrap()))
        .collect();
    let keys: Vec<String> = (0..CALLERS as u64).map(mc_key).collect();
    let raw = |i: usize, key: &str| {
        let mut con = cons[i].lock().unwrap();
        black_box(get(key).query::<Vec<u8>>(&mut *con).unwrap());
    };
    let mut g = c.benchmark_group("redis_100_threads");
    g.throughput(Throughput::Elements(1));
    g.bench_function("memocache", |b| {
        b.iter_custom(|n| threads(n, &|i| drop(black_box(mc_profile(i as u64)))))
    });
    g.bench_function("raw_get", |b| {
        b.iter_custom(|n| threads(n, &|i| raw(i, &keys[i])))
    });
    g.bench_function("cached", |b| {
        b.iter_custom(|n| threads(n, &|i| drop(black_box(cached_profile(i as u64).unwrap()))))
    });
    g.bench_function("memocache_hot", |b| {
        b.iter_custom(|n| threads(n, &|_| drop(black_box(mc_profile(0)))))
    });
    g.bench_function("raw_get_hot", |b| {
        b.iter_custom(|n| threads(n, &|i| raw(i, &keys[0])))
    });
    g.finish();
}

/// Stores every entry the benchmarks read, and checks the raw `GET`s find memocache's bytes.
fn prefill(client: &redis::Client, rt: &tokio::runtime::Runtime) {
    let mut con = client.get_connection().unwrap();
    for id in 0..CALLERS as u64 {
        assert_eq!(mc_profile(id), make(id));
        assert_eq!(rt.block_on(mc_profile_async(id)), make(id));
        assert_eq!(cached_profile(id), Ok(make(id)));
        assert_eq!(rt.block_on(cached_profile_async(id)), Ok(make(id)));
        let bytes: Vec<u8> = get(&mc_key(id)).query(&mut con).unwrap();
        assert!(bytes.len() > 100, "memocache's entry {id} is in Redis");
    }
    let bytes: Vec<u8> = get(&mc_key(7)).query(&mut con).unwrap();
    println!(
        "memocache's entry: {} bytes under {}",
        bytes.len(),
        mc_key(7)
    );
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(|_| "?".into(), |l| l.trim().into())
}

fn main() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    server.stop_with_this_process();
    URL.set(server.url()).unwrap();
    // Generous: this measures hits, not timeouts (a call past the timeout would run the body
    // instead, and be counted in `errors`, checked below).
    memocache::redis::init(
        memocache::redis::Config::from_url(&server.url())
            .unwrap()
            .operation_timeout(Duration::from_secs(2)),
    )
    .unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let rt = runtime();
    prefill(&client, &rt);
    let before = (mc_profile_cache().stats(), mc_profile_async_cache().stats());
    println!("load average before: {}", load());
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();
    serial_sync(&mut c, &client);
    serial_async(&mut c, &client, &rt);
    concurrent_async(&mut c, &client, &rt);
    concurrent_sync(&mut c, &client);
    c.final_summary();
    println!("load average after: {}", load());
    let after = (mc_profile_cache().stats(), mc_profile_async_cache().stats());
    for (name, b, a) in [
        ("mc_profile", before.0, after.0),
        ("mc_profile_async", before.1, after.1),
    ] {
        println!(
            "{name}: {} Redis hits, {} misses, {} errors while measuring",
            a.hits - b.hits,
            a.misses - b.misses,
            a.errors - b.errors
        );
        assert_eq!(
            (a.misses - b.misses, a.errors - b.errors),
            (0, 0),
            "{name}: every measured call was a Redis hit"
        );
    }
}
