//! The measurements behind the Redis tier's choices, against a real `redis-server` this
//! program starts on a free loopback port (and a 3-master Cluster for `delete_all`).
//!
//! ```text
//! cargo bench -p cache-runtime --features bench-smol-comp --bench redis_transport [-- transport|delete_all]
//! ```
//!
//! `transport`: a serial `GET` and 100 concurrent callers for each way a call can reach Redis:
//! a pooled sync connection (socket timeouts per call, as `pool.rs` does), a request to an I/O
//! thread that owns a current-thread tokio runtime and a `ConnectionManager` (as `io.rs` does;
//! a sync caller blocking on a std channel, an async caller awaiting a oneshot), redis-rs's
//! `smol-comp` runtime (with the `bench-smol-comp` feature), and redis-rs's native tokio way
//! (a multiplexed connection on the caller's own runtime) as the reference.
//!
//! `delete_all`: dropping a cache of 1 000 000 keys with a cursor `SCAN` + `UNLINK` (1000 keys
//! per round trip, as `ops.rs` does) against the alternative, an O(1) per-function generation,
//! whose cost moves to every lookup (an extra `GET` of the generation, or an extra key in the
//! lookup script where the generation can share the entry's node).

#[path = "../../tests/support/redis_server.rs"]
mod redis_server;

use redis::aio::ConnectionLike as _;
use redis::{ConnectionLike as _, Value};
use redis_server::{RedisCluster, RedisServer};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::{Duration, Instant};

const SERIAL: usize = 20_000;
const CALLERS: usize = 100;
const PER_CALLER: usize = 200;
/// Generous here: this measures latency, not timeouts (a loaded machine must not abort it).
const OP: Duration = Duration::from_secs(2);

fn main() {
    let which: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let run = |name: &str| which.as_deref().is_none_or(|w| w == name);
    if run("transport") {
        let Some(server) = RedisServer::start() else {
            return;
        };
        transports(&server);
    }
    if run("delete_all") {
        let Some(server) = RedisServer::start() else {
            return;
        };
        delete_all_standalone(&server);
        let Some(cluster) = RedisCluster::start() else {
            return;
        };
        delete_all_cluster(&cluster);
    }
}

/// Latencies of a run, printed as one row.
fn row(name: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let ops = lat.len() as f64 / wall.as_secs_f64();
    println!(
        "{name:<58} {:>8.1} µs p50 {:>8.1} µs p99 {:>10.0} ops/s",
        pct(0.50).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        ops
    );
}

fn get_cmd() -> redis::Cmd {
    redis::cmd("GET").arg("bench:key").clone()
}

/// What `pool.rs` does per call: socket timeouts set to the time left, one round trip.
fn pooled_get(con: &mut redis::Connection) -> Value {
    let t = Some(OP);
    con.set_read_timeout(t).unwrap();
    con.set_write_timeout(t).unwrap();
    con.req_command(&get_cmd()).unwrap()
}

enum Reply {
    Blocking(mpsc::SyncSender<Value>),
    Async(tokio::sync::oneshot::Sender<Value>),
}

/// What `io.rs` does: a thread, a current-thread runtime, a ConnectionManager, one task per
/// request under `timeout`, answers through channels.
struct IoThread {
    tx: tokio::sync::mpsc::UnboundedSender<(redis::Cmd, Reply)>,
}

impl IoThread {
    fn start(url: &str) -> IoThread {
        let client = redis::Client::open(url).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(redis::Cmd, Reply)>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let cfg = redis::aio::ConnectionManagerConfig::new().set_response_timeout(Some(OP));
                let m = redis::aio::ConnectionManager::new_lazy_with_config(client, cfg).unwrap();
                while let Some((cmd, reply)) = rx.recv().await {
                    let mut m = m.clone();
                    tokio::spawn(async move {
                        let v = tokio::time::timeout(OP, m.req_packed_command(&cmd))
                            .await
                            .unwrap()
                            .unwrap();
                        match reply {
                            Reply::Blocking(tx) => drop(tx.try_send(v)),
                            Reply::Async(tx) => drop(tx.send(v)),
                        }
                    });
                }
            });
        });
        IoThread { tx }
    }

    fn get_blocking(&self) -> Value {
        let (tx, rx) = mpsc::sync_channel(1);
        self.tx.send((get_cmd(), Reply::Blocking(tx))).unwrap();
        rx.recv_timeout(OP).unwrap()
    }

    async fn get(&self) -> Value {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx.send((get_cmd(), Reply::Async(tx))).unwrap();
        rx.await.unwrap()
    }
}

/// The alternative to `IoThread`: the runtime (and the connection's driver task) still live
/// on a thread of our own, but callers poll the `ConnectionManager` future in their own
/// executor, with that runtime's context entered during each poll (so redis-rs's spawns and
/// tokio timers go to our runtime). One hop to the driver and back, no job channel, no task
/// per request.
struct Entered {
    handle: tokio::runtime::Handle,
    manager: redis::aio::ConnectionManager,
}

struct EnterOnPoll<F> {
    handle: tokio::runtime::Handle,
    fut: std::pin::Pin<Box<F>>,
}

impl<F: std::future::Future> std::future::Future for EnterOnPoll<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let _guard = self.handle.enter();
        self.fut.as_mut().poll(cx)
    }
}

impl Entered {
    fn start(url: &str) -> Entered {
        let client = redis::Client::open(url).unwrap();
        let (htx, hrx) = mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            htx.send(rt.handle().clone()).unwrap();
            rt.block_on(std::future::pending::<()>());
        });
        let handle = hrx.recv().unwrap();
        let manager = {
            let _g = handle.enter();
            let cfg = redis::aio::ConnectionManagerConfig::new().set_response_timeout(Some(OP));
            redis::aio::ConnectionManager::new_lazy_with_config(client, cfg).unwrap()
        };
        Entered { handle, manager }
    }

    fn get(&self) -> impl std::future::Future<Output = Value> + Send + use<> {
        let mut m = self.manager.clone();
        let fut = Box::pin(async move {
            tokio::time::timeout(OP, m.req_packed_command(&get_cmd()))
                .await
                .unwrap()
                .unwrap()
        });
        EnterOnPoll {
            handle: self.handle.clone(),
            fut,
        }
    }

    /// A sync caller: the same future, polled on the caller's thread with a parking waker.
    fn get_blocking(&self) -> Value {
        futures::executor::block_on(self.get())
    }
}

fn serial(name: &str, mut f: impl FnMut()) {
    for _ in 0..1000 {
        f();
    }
    let mut lat = Vec::with_capacity(SERIAL);
    let start = Instant::now();
    for _ in 0..SERIAL {
        let t = Instant::now();
        f();
        lat.push(t.elapsed());
    }
    row(name, lat, start.elapsed());
}

/// `CALLERS` threads, each `PER_CALLER` calls of `f`, started together.
fn threads(name: &str, f: impl Fn() + Send + Sync + 'static) {
    let f = Arc::new(f);
    let barrier = Arc::new(Barrier::new(CALLERS + 1));
    let handles: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (f, barrier) = (f.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                (0..PER_CALLER)
                    .map(|_| {
                        let t = Instant::now();
                        f();
                        t.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    row(name, lat, start.elapsed());
}

/// `CALLERS` tasks on a 2-worker tokio runtime, each `PER_CALLER` awaits of `f()`.
fn tasks<F, Fut>(name: &str, rt: &tokio::runtime::Runtime, f: F)
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let lat = rt.block_on(async {
        let hs: Vec<_> = (0..CALLERS)
            .map(|_| {
                let f = f.clone();
                tokio::spawn(async move {
                    let mut lat = Vec::with_capacity(PER_CALLER);
                    for _ in 0..PER_CALLER {
                        let t = Instant::now();
                        f().await;
                        lat.push(t.elapsed());
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in hs {
            all.extend(h.await.unwrap());
        }
        all
    });
    row(name, lat, start.elapsed());
}

fn transports(server: &RedisServer) {
    let url = server.url();
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut con = client.get_connection().unwrap();
    redis::cmd("SET")
        .arg("bench:key")
        .arg(vec![7u8; 100])
        .exec(&mut con)
        .unwrap();
    println!(
        "\n== transports: GET of 100 bytes on loopback ({SERIAL} serial; {CALLERS} callers x {PER_CALLER}) =="
    );

    // Serial.
    serial("sync, pooled connection (pool.rs)", || {
        drop(pooled_get(&mut con))
    });
    let io = Arc::new(IoThread::start(&url));
    serial(
        "sync, via the I/O thread (io.rs, blocking on a channel)",
        || drop(io.get_blocking()),
    );
    serial(
        "async, via the I/O thread (io.rs), futures::block_on",
        || drop(futures::executor::block_on(io.get())),
    );
    let entered = Arc::new(Entered::start(&url));
    serial(
        "sync, polled on the caller's thread, runtime entered",
        || drop(entered.get_blocking()),
    );
    serial(
        "async, polled by the caller's executor, runtime entered",
        || drop(futures::executor::block_on(entered.get())),
    );
    #[cfg(feature = "bench-smol-comp")]
    let smol_con = {
        // Made outside any tokio runtime, so redis-rs picks smol for it.
        let c = futures::executor::block_on(client.get_multiplexed_async_connection()).unwrap();
        let mut c2 = c.clone();
        serial("async, smol-comp multiplexed, futures::block_on", || {
            drop(futures::executor::block_on(c2.req_packed_command(&get_cmd())).unwrap())
        });
        c
    };
    let rt1 = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let native = rt1
        .block_on(client.get_multiplexed_async_connection())
        .unwrap();
    {
        let mut n = native.clone();
        serial(
            "reference: tokio multiplexed on the caller's runtime",
            || drop(rt1.block_on(n.req_packed_command(&get_cmd())).unwrap()),
        );
    }

    // 100 concurrent callers.
    for size in [8usize, 16] {
        let pool: Arc<(Mutex<Vec<redis::Connection>>, std::sync::Condvar)> = Arc::new((
            Mutex::new(
                (0..size)
                    .map(|_| client.get_connection().unwrap())
                    .collect(),
            ),
            std::sync::Condvar::new(),
        ));
        threads(
            &format!("sync x{CALLERS} threads, pool of {size} (pool.rs)"),
            move || {
                let (lock, cv) = &*pool;
                let mut con = {
                    let mut idle = lock.lock().unwrap();
                    loop {
                        if let Some(c) = idle.pop() {
                            break c;
                        }
                        idle = cv.wait(idle).unwrap();
                    }
                };
                drop(pooled_get(&mut con));
                lock.lock().unwrap().push(con);
                cv.notify_one();
            },
        );
    }
    let io2 = io.clone();
    threads(
        &format!("sync x{CALLERS} threads, via the I/O thread"),
        move || drop(io2.get_blocking()),
    );
    let e2 = entered.clone();
    threads(
        &format!("sync x{CALLERS} threads, runtime entered"),
        move || drop(e2.get_blocking()),
    );
    {
        // Hybrid: a pooled connection when one is idle, else the multiplexed path.
        let pool: Arc<Mutex<Vec<redis::Connection>>> = Arc::new(Mutex::new(
            (0..8).map(|_| client.get_connection().unwrap()).collect(),
        ));
        let e3 = entered.clone();
        threads(
            &format!("sync x{CALLERS} threads, pool of 8 else multiplexed"),
            move || {
                let con = pool.lock().unwrap().pop();
                match con {
                    Some(mut con) => {
                        drop(pooled_get(&mut con));
                        pool.lock().unwrap().push(con);
                    }
                    None => drop(e3.get_blocking()),
                }
            },
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let io3 = io.clone();
    tasks(
        &format!("async x{CALLERS} tokio tasks, via the I/O thread"),
        &rt,
        move || {
            let io = io3.clone();
            async move { drop(io.get().await) }
        },
    );
    let e4 = entered.clone();
    tasks(
        &format!("async x{CALLERS} tokio tasks, runtime entered"),
        &rt,
        move || {
            let e = e4.clone();
            async move { drop(e.get().await) }
        },
    );
    #[cfg(feature = "bench-smol-comp")]
    tasks(
        &format!("async x{CALLERS} tokio tasks, smol-comp multiplexed"),
        &rt,
        move || {
            let mut c = smol_con.clone();
            async move { drop(c.req_packed_command(&get_cmd()).await.unwrap()) }
        },
    );
    let native2 = rt
        .block_on(client.get_multiplexed_async_connection())
        .unwrap();
    tasks(
        &format!("reference: x{CALLERS} tokio tasks, own multiplexed"),
        &rt,
        move || {
            let mut c = native2.clone();
            async move { drop(c.req_packed_command(&get_cmd()).await.unwrap()) }
        },
    );
    drop(native);
}

/// Writes `n` keys `<prefix><i>` (with a PX, as entries have) through `con`, pipelined.
fn populate(con: &mut dyn redis::ConnectionLike, prefix: &str, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let mut p = redis::pipe();
        for i in chunk {
            p.cmd("SET")
                .arg(format!("{prefix}{i}"))
                .arg(vec![1u8; 40])
                .arg("PX")
                .arg(3_600_000)
                .ignore();
        }
        p.exec(con).unwrap();
    }
}

/// What `ops.rs` does on one node: SCAN MATCH COUNT 1000, then one UNLINK of what it found
/// (`cluster`: one UNLINK per key, pipelined, since a node's keys span many slots).
fn scan_unlink(con: &mut redis::Connection, pattern: &str, cluster: bool) -> u64 {
    let mut cursor = 0u64;
    let mut removed = 0u64;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query(con)
            .unwrap();
        if !keys.is_empty() {
            if cluster {
                let mut p = redis::pipe();
                for k in &keys {
                    p.cmd("UNLINK").arg(k);
                }
                let counts: Vec<u64> = p.query(con).unwrap();
                removed += counts.iter().sum::<u64>();
            } else {
                removed += redis::cmd("UNLINK").arg(&keys).query::<u64>(con).unwrap();
            }
        }
        if next == 0 {
            return removed;
        }
        cursor = next;
    }
}

fn delete_all_standalone(server: &RedisServer) {
    const N: usize = 1_000_000;
    let client = redis::Client::open(server.url().as_str()).unwrap();
    let mut con = client.get_connection().unwrap();
    println!("\n== delete_all of a cache of {N} keys, standalone ==");
    let t = Instant::now();
    populate(&mut con, "memocache:big:", N);
    populate(&mut con, "memocache:other:", 100_000);
    println!(
        "populate {N} + 100000 keys: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let removed = scan_unlink(&mut con, "memocache:big:*", false);
    let took = t.elapsed();
    assert_eq!(removed, N as u64);
    println!(
        "SCAN + UNLINK: {removed} keys in {:.2} s ({:.0} keys/s)",
        took.as_secs_f64(),
        N as f64 / took.as_secs_f64()
    );
    let left: u64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(left, 100_000, "the other cache is untouched");

    // The generation alternative: an INCR to invalidate, and on every lookup the generation
    // read with the entry (same node: one script; Cluster: another round trip).
    let t = Instant::now();
    let _: i64 = redis::cmd("INCR")
        .arg("memocache:#gen:big")
        .query(&mut con)
        .unwrap();
    println!("generation INCR: {:.1} µs", t.elapsed().as_secs_f64() * 1e6);
    redis::cmd("SET")
        .arg("memocache:big:1")
        .arg(vec![1u8; 40])
        .exec(&mut con)
        .unwrap();
    let plain = redis::Script::new("return redis.call('GET', KEYS[1])");
    let with_gen =
        redis::Script::new("return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}");
    serial("lookup script, no generation", || {
        drop(
            plain
                .key("memocache:big:1")
                .invoke::<Value>(&mut con)
                .unwrap(),
        );
    });
    serial("lookup script reading the generation (same node)", || {
        drop(
            with_gen
                .key("memocache:big:1")
                .key("memocache:#gen:big")
                .invoke::<Value>(&mut con)
                .unwrap(),
        );
    });
    serial(
        "lookup script + a GET of the generation (Cluster: 2 RTTs)",
        || {
            drop(
                plain
                    .key("memocache:big:1")
                    .invoke::<Value>(&mut con)
                    .unwrap(),
            );
            drop(
                redis::cmd("GET")
                    .arg("memocache:#gen:big")
                    .query::<Value>(&mut con)
                    .unwrap(),
            );
        },
    );
}

fn delete_all_cluster(cluster: &RedisCluster) {
    const N: usize = 1_000_000;
    println!("\n== delete_all of a cache of {N} keys, 3-master Cluster ==");
    let client = redis::cluster::ClusterClient::new(cluster.urls()).unwrap();
    let mut cc = client.get_connection().unwrap();
    let t = Instant::now();
    for chunk in (0..N).collect::<Vec<_>>().chunks(10_000) {
        let mut p = redis::cluster::cluster_pipe();
        for i in chunk {
            p.cmd("SET")
                .arg(format!("memocache:big:{i}"))
                .arg(vec![1u8; 40])
                .arg("PX")
                .arg(3_600_000)
                .ignore();
        }
        p.exec(&mut cc).unwrap();
    }
    println!("populate {N} keys: {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let mut removed = 0;
    for node in &cluster.nodes {
        let mut con = redis::Client::open(node.url().as_str())
            .unwrap()
            .get_connection()
            .unwrap();
        removed += scan_unlink(&mut con, "memocache:big:*", true);
    }
    let took = t.elapsed();
    assert_eq!(removed, N as u64);
    println!(
        "SCAN + UNLINK over 3 masters, one after another: {removed} keys in {:.2} s ({:.0} keys/s)",
        took.as_secs_f64(),
        N as f64 / took.as_secs_f64()
    );
}
