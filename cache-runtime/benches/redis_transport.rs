//! The measurements behind the Redis tier's choices, against a real `redis-server` this
//! program starts on a free loopback port (and a 3-master Cluster for `delete_all`).
//!
//! ```text
//! cargo bench -p cache-runtime --features bench-smol-comp --bench redis_transport
//! ```
//!
//! A serial `GET` and 100 concurrent callers for each way a call can reach Redis:
//! a pooled sync connection (socket timeouts per call, as `pool.rs` does), a request to an I/O
//! thread that owns a current-thread tokio runtime and a `ConnectionManager` (as `io.rs` does;
//! a sync caller blocking on a std channel, an async caller awaiting a oneshot), redis-rs's
//! `smol-comp` runtime (with the `bench-smol-comp` feature), and redis-rs's native tokio way
//! (a multiplexed connection on the caller's own runtime) as the reference. Also: the caller
//! polling the connection's future itself with our runtime entered (one job channel fewer),
//! and sync callers that use the pool when a connection is idle, else the multiplexed path.

#[path = "../../tests/support/redis_server.rs"]
mod redis_server;

use redis::aio::ConnectionLike as _;
use redis::{ConnectionLike as _, Value};
use redis_server::RedisServer;
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::{Duration, Instant};

const SERIAL: usize = 20_000;
const CALLERS: usize = 100;
const PER_CALLER: usize = 200;
/// Generous here: this measures latency, not timeouts (a loaded machine must not abort it).
const OP: Duration = Duration::from_secs(2);

fn main() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    transports(&server);
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
