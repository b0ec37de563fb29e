//! A fleet of two worker processes sharing one Redis through `#[cached(ttl = .., redis)]`.
//!
//! 1. A cold key: worker A computes it, worker B is served A's value from Redis.
//! 2. An invalidation in one process reaches the other: A changes a price and invalidates it,
//!    B computes the new price, A is served B's value.
//! 3. Near copies (`near = "30s"`): B serves a repeated read from its own memory in about a
//!    microsecond; A's invalidation, announced on the bus, drops B's copy at once.
//! 4. Single-flight across the fleet: A and B ask for the same cold key at the same time; one
//!    runs the body, the other waits for its value.
//! 5. An outage: the example kills its `redis-server`; both workers still answer right (their
//!    bodies run), and count the failures in `stats().errors`. Then it restarts the server and
//!    the workers use Redis again by themselves.
//!
//! Run it with `cargo run --release -p memocache-examples --example redis_fleet --features redis`.
//! It starts its own `redis-server` on a free loopback port, or uses `MEMOCACHE_REDIS_URL`
//! when that is set (then it skips the outage: that server is not its to kill). The workers
//! are this program again, started with a `worker` argument; it talks to them over their
//! standard input and output, and stops them (and the server) when it ends, also on a panic.

#[path = "../tests/support/redis_server.rs"]
mod redis_server;

use memocache::cached;
use redis_server::RedisServer;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// The worker: what a service of the fleet would write.
// ---------------------------------------------------------------------------------------------

/// What `price` returns, and so what is stored in Redis (any serde type works).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Quote {
    cents: u64,
    /// The worker whose body computed it: what the output shows being shared.
    computed_by: String,
}

/// This worker's name ("A" or "B"), and the "database" file its bodies read.
static WORKER: OnceLock<(String, PathBuf)> = OnceLock::new();
/// How many times this process's body ran.
static BODY_RUNS: AtomicU64 = AtomicU64::new(0);

/// A slow lookup in the database (200 ms), stored in Redis for 10 minutes and shared by
/// every process of the fleet.
#[cached(ttl = "10m", redis, name = "fleet.price")]
fn price(symbol: &str) -> Quote {
    BODY_RUNS.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    let (name, db) = WORKER.get().expect("a worker");
    Quote {
        cents: read_db(db, symbol),
        computed_by: name.clone(),
    }
}

/// An exchange rate, also kept near: a copy in each process's memory for up to 30 s, dropped
/// at once when another process invalidates it.
#[cached(ttl = "10m", redis, near = "30s", name = "fleet.rate")]
fn rate(currency: &str) -> u64 {
    BODY_RUNS.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(50));
    let (_, db) = WORKER.get().expect("a worker");
    read_db(db, currency)
}

/// The price of `symbol` in the database file (lines `SYMBOL CENTS`; 0 if absent).
fn read_db(db: &Path, symbol: &str) -> u64 {
    let text = std::fs::read_to_string(db).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(s, _)| *s == symbol)
        .find_map(|(_, c)| c.trim().parse().ok())
        .unwrap_or(0)
}

/// The write path: the new price in the database, then the cached entry dropped, for every
/// process (the invalidation reaches Redis before it returns).
fn set_price(db: &Path, symbol: &str, cents: u64) -> bool {
    let mut text = std::fs::read_to_string(db).unwrap_or_default();
    text = text
        .lines()
        .filter(|l| l.split_once(' ').is_none_or(|(s, _)| s != symbol))
        .map(|l| format!("{l}\n"))
        .collect();
    text.push_str(&format!("{symbol} {cents}\n"));
    std::fs::write(db, text).expect("the database file is writable");
    invalidate_price(symbol) | invalidate_rate(symbol)
}

/// The worker's loop: one command per line on stdin, one `REPLY key=value ...` line each.
fn worker(name: &str, url: &str, db: &str, prefix: &str) {
    use memocache::redis::Config;
    // One URL, or several separated by commas for a Redis Cluster.
    let config = match url.contains(',') {
        true => Config::cluster(url.split(',')),
        false => Config::from_url(url),
    };
    memocache::redis::init(config.expect("a Redis URL").key_prefix(prefix))
        .expect("the first init");
    WORKER.set((name.to_owned(), db.into())).unwrap();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("a command");
        let words: Vec<&str> = line.split_whitespace().collect();
        let reply = match words[..] {
            ["price", symbol] => {
                let runs = BODY_RUNS.load(Ordering::SeqCst);
                let start = Instant::now();
                let q = price(symbol);
                format!(
                    "cents={} by={} ran={} ms={:.1}",
                    q.cents,
                    q.computed_by,
                    BODY_RUNS.load(Ordering::SeqCst) - runs,
                    start.elapsed().as_secs_f64() * 1e3
                )
            }
            ["rate", currency] => {
                let runs = BODY_RUNS.load(Ordering::SeqCst);
                let start = Instant::now();
                let r = rate(currency);
                format!(
                    "rate={r} ran={} us={:.1} near={}",
                    BODY_RUNS.load(Ordering::SeqCst) - runs,
                    start.elapsed().as_secs_f64() * 1e6,
                    rate_cache().len()
                )
            }
            ["set", symbol, cents] => {
                let was = set_price(Path::new(db), symbol, cents.parse().expect("cents"));
                format!("invalidated={was}")
            }
            ["stats"] => {
                let s = price_cache().stats();
                format!("hits={} misses={} errors={}", s.hits, s.misses, s.errors)
            }
            ["cleanup"] => {
                invalidate_all_price();
                "done=1".to_owned()
            }
            _ => format!("unknown={}", line.replace(' ', "_")),
        };
        println!("REPLY {reply}");
    }
}

// ---------------------------------------------------------------------------------------------
// The coordinator: starts the server and the workers, tells them what to do, prints it.
// ---------------------------------------------------------------------------------------------

/// A worker process, killed when dropped (on a panic too).
struct Worker {
    name: &'static str,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// A worker's answer: its `key=value` pairs.
struct Reply(Vec<(String, String)>);

impl Reply {
    fn get(&self, key: &str) -> &str {
        let found = self.0.iter().find(|(k, _)| k == key);
        found.map_or("?", |(_, v)| v.as_str())
    }

    fn num(&self, key: &str) -> u64 {
        self.get(key).parse().unwrap_or(0)
    }
}

impl Worker {
    fn start(name: &'static str, url: &str, db: &Path, prefix: &str) -> Worker {
        let mut child = Command::new(std::env::current_exe().expect("this program's path"))
            .args(["worker", name, url])
            .arg(db)
            .arg(prefix)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("a worker process");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Worker {
            name,
            child,
            stdin,
            stdout,
        }
    }

    fn ask(&mut self, command: &str) -> Reply {
        self.send(command);
        self.recv(command)
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").expect("the worker runs");
    }

    fn recv(&mut self, command: &str) -> Reply {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("the worker answers");
        let reply = line
            .trim()
            .strip_prefix("REPLY ")
            .unwrap_or_else(|| panic!("worker {} answered {line:?} to {command:?}", self.name));
        Reply(
            reply
                .split(' ')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// `price(symbol)` in this worker, printed as one line.
    fn price(&mut self, symbol: &str, note: &str) -> Reply {
        let r = self.ask(&format!("price {symbol}"));
        let how = if r.num("ran") > 0 {
            "its body ran"
        } else {
            "served from Redis"
        };
        println!(
            "   {}  price({symbol:?}) = {:>3} cents, computed by {}  ({how}, {} ms){note}",
            self.name,
            r.get("cents"),
            r.get("by"),
            r.get("ms")
        );
        r
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The database file, removed at the end.
struct Db(PathBuf);

impl Drop for Db {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, role, name, url, db, prefix] = &args[..]
        && role == "worker"
    {
        return worker(name, url, db, prefix);
    }

    let external = std::env::var(memocache::redis::ENV_URL).ok();
    let mut server = match external {
        Some(_) => None,
        None => match RedisServer::start() {
            Some(s) => Some(s),
            None => return, // it printed "skipped: redis-server not found"
        },
    };
    if let Some(s) = &server {
        s.stop_with_this_process(); // even if this process is killed
    }
    let url = match (&external, &server) {
        (Some(url), _) => url.clone(),
        (_, Some(s)) => s.url(),
        (None, None) => unreachable!("a URL or a server"),
    };
    let db = Db(std::env::temp_dir().join(format!("redis_fleet-{}.db", std::process::id())));
    std::fs::write(&db.0, "ACME 104\nGLOBEX 250\n").expect("a temporary file");
    // A key prefix of this run's own, so that runs against a shared server never meet.
    let prefix = format!("redis_fleet-{}", std::process::id());

    println!("memocache redis_fleet: two worker processes, one Redis");
    match &server {
        Some(s) => println!(
            "   redis-server on 127.0.0.1:{} (started by this example)",
            s.port()
        ),
        None => println!("   Redis at {url} (MEMOCACHE_REDIS_URL)"),
    }
    println!(
        "   #[cached(ttl = \"10m\", redis)] fn price(symbol: &str) -> Quote  (its body: 200 ms)\n"
    );
    let mut a = Worker::start("A", &url, &db.0, &prefix);
    let mut b = Worker::start("B", &url, &db.0, &prefix);

    println!("1. A cold key: A computes it, B is served A's value from Redis");
    let first = a.price("ACME", "");
    let second = b.price("ACME", "");
    assert_eq!(first.num("ran"), 1, "A's body ran: the key was cold");
    assert_eq!(
        (second.num("ran"), second.get("by")),
        (0, "A"),
        "B was served A's value"
    );

    println!("\n2. An invalidation in A reaches B");
    let r = a.ask("set ACME 110");
    println!(
        "   A  writes ACME = 110 to the database, invalidate_price(\"ACME\") -> {}",
        r.get("invalidated")
    );
    let after = b.price("ACME", "  <- A's invalidation dropped the entry in Redis");
    assert_eq!((after.num("cents"), after.num("ran")), (110, 1));
    let back = a.price("ACME", "");
    assert_eq!((back.num("ran"), back.get("by")), (0, "B"));

    near_copies(&mut a, &mut b);
    fleet_single_flight(&mut a, &mut b);

    if let Some(server) = &mut server {
        outage(server, &prefix, &mut a, &mut b);
    } else {
        println!(
            "\n5. The outage: skipped (the server at MEMOCACHE_REDIS_URL is not this example's to kill)"
        );
    }

    a.ask("cleanup");
    drop((a, b));
    let stopped = if server.is_some() {
        "both workers and the server"
    } else {
        "both workers"
    };
    println!("\ndone: {stopped} stopped.");
}

/// Step 3: near copies, served from B's memory, dropped when A invalidates.
fn near_copies(a: &mut Worker, b: &mut Worker) {
    println!(
        "\n3. Near copies: #[cached(ttl = \"10m\", redis, near = \"30s\")] fn rate(currency: &str) -> u64"
    );
    a.ask("set EUR 108");
    let show = |who: &str, r: &Reply, note: &str| {
        let how = match (r.num("ran"), r.num("near")) {
            (1, _) => "its body ran",
            (_, 0) => "served from Redis",
            _ => "served from its memory",
        };
        println!(
            "   {who}  rate(\"EUR\") = {}  ({how}, {} us){note}",
            r.get("rate"),
            r.get("us")
        );
    };
    // The bus subscribes in the background when the first near cache is made; until then
    // no copy is kept.
    let until = Instant::now() + Duration::from_secs(10);
    let mut r = b.ask("rate EUR");
    show("B", &r, "");
    while r.num("near") == 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
        r = b.ask("rate EUR");
    }
    let hit = b.ask("rate EUR");
    show("B", &hit, "");
    assert_eq!((hit.num("ran"), hit.num("near")), (0, 1), "a near hit");
    let r = a.ask("set EUR 109");
    println!(
        "   A  writes EUR = 109, invalidate_rate(\"EUR\") -> {}  (announced on the bus)",
        r.get("invalidated")
    );
    // The announcement takes about a millisecond on loopback; a loaded machine may take more.
    std::thread::sleep(Duration::from_millis(20));
    let mut after = b.ask("rate EUR");
    let until = Instant::now() + Duration::from_secs(2);
    while after.num("rate") != 109 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
        after = b.ask("rate EUR");
    }
    show("B", &after, "  <- A's invalidation dropped B's near copy");
    assert_eq!(after.num("rate"), 109, "B's near copy was dropped");
}

/// Step 4: both workers ask for a cold key at once: the fleet runs the body once.
fn fleet_single_flight(a: &mut Worker, b: &mut Worker) {
    println!("\n4. Single-flight across the fleet: A and B ask for a cold key at the same time");
    a.send("price GLOBEX");
    b.send("price GLOBEX");
    let (ra, rb) = (a.recv("price GLOBEX"), b.recv("price GLOBEX"));
    for (who, r) in [("A", &ra), ("B", &rb)] {
        let how = if r.num("ran") > 0 {
            "its body ran"
        } else {
            "waited for the other's run"
        };
        println!(
            "   {who}  price(\"GLOBEX\") = {} cents, computed by {}  ({how}, {} ms)",
            r.get("cents"),
            r.get("by"),
            r.get("ms")
        );
    }
    assert_eq!(
        ra.num("ran") + rb.num("ran"),
        1,
        "one body run for the fleet"
    );
}

/// Step 5: Redis killed, calls still right, errors counted; Redis back, used again.
fn outage(server: &mut RedisServer, prefix: &str, a: &mut Worker, b: &mut Worker) {
    println!("\n5. An outage: the example kills redis-server");
    server.kill();
    for w in [&mut *a, &mut *b] {
        for _ in 0..3 {
            let r = w.price("ACME", "");
            assert_eq!(
                (r.num("cents"), r.num("ran")),
                (110, 1),
                "right, without Redis"
            );
        }
    }
    for w in [&mut *a, &mut *b] {
        let s = w.ask("stats");
        println!(
            "   {}  price_cache().stats(): {} hits, {} misses, {} errors (the calls Redis could not answer)",
            w.name,
            s.get("hits"),
            s.get("misses"),
            s.get("errors")
        );
        assert!(s.num("errors") > 0, "the outage is counted");
    }

    println!("   restarting redis-server on the same port (empty: no persistence)");
    server.restart();
    let start = Instant::now();
    let mut calls = 0;
    // Each worker skips Redis until its background PING finds it again (within a second or
    // so): until then its calls run their bodies, as during the outage.
    loop {
        let r = a.ask("price ACME");
        calls += 1;
        let stored = server.cli(&["EXISTS", &format!("{prefix}:fleet.price:ACME")]);
        if r.num("ran") == 1 && stored == "1" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "Redis never used again"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "   A  uses Redis again after {:.1} s ({calls} calls; the last one stored its value)",
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    loop {
        let r = b.ask("price ACME");
        if r.num("ran") == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "Redis never used again"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = b.price("ACME", "  <- Redis is used again");
    assert_eq!((r.num("ran"), r.get("by")), (0, "A"));
}
