//! The linearizable-invalidation stress of `tests/linearizable.rs`, across processes, against
//! one real `redis-server` (and a 3-master Cluster): once `invalidate_f` (or
//! `invalidate_tag`, `invalidate_all_f`, `clear`, `refresh_f`) has returned in one process, no
//! call that starts afterwards in any process gets a value computed before that return.
//!
//! The source of truth is in Redis, shared by every process: key `k`'s source value under
//! `src:k` and its published version under `ver:k` (plain keys, read and written over a raw
//! RESP connection of this file). Writer processes loop: `INCR src:k`, invalidate `k` (or
//! refresh it), then publish the new version (`ver:k` raised to it). Reader processes loop:
//! read the published version `c`, call the cached function, check the answer is at least
//! `c`. The cached functions (`#[cached(ttl = "10m", redis)]`, a sync one and an `async`
//! one, on a multi-thread tokio runtime) read `src:k` in their bodies. Each reader process
//! runs one caller at a time, or several (which then also join the runs of their process).
//!
//! The test binary is run again as each child (`MEMOCACHE_TEST_CHILD` names its role); the
//! parent only starts the server, spawns the children and adds up their reports. Each test
//! uses a key prefix of its own, so the tests can share nothing and run side by side. The
//! runs are bounded by time (a few seconds) and check behaviour, never time.
#![cfg(feature = "redis")]

#[path = "support/redis_child.rs"]
mod redis_child;
#[path = "support/redis_server.rs"]
mod redis_server;

use memocache::cached;
use redis_server::{RedisCluster, RedisServer};
use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

const KEYS: u64 = 16;
/// How long each child loops.
const RUN: Duration = Duration::from_millis(2500);
const WRITERS: usize = 2;
const SYNC_READERS: usize = 2;

// ---------------------------------------------------------------------------------------------
// A raw RESP connection (std only): the shared source of truth and the published versions.
// ---------------------------------------------------------------------------------------------

/// One connection to the node that holds the `{lin}` slot (every `src:`/`ver:` key carries
/// that hash tag; the cached functions' own keys spread over all the slots).
struct Raw {
    reader: BufReader<TcpStream>,
}

impl Raw {
    /// A connection to the first of `urls`, following one `MOVED` to the slot's owner.
    fn connect(urls: &str) -> Raw {
        let first = urls.split(',').next().unwrap();
        let mut raw = Raw::to(first.trim_start_matches("redis://").trim_end_matches('/'));
        if let Err(e) = raw.cmd(&[b"GET", b"{lin}:probe"]) {
            let addr = e.strip_prefix("MOVED ").and_then(|r| r.split(' ').nth(1));
            raw = Raw::to(addr.unwrap_or_else(|| panic!("GET {{lin}}:probe: {e}")));
        }
        raw
    }

    fn to(addr: &str) -> Raw {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Raw {
            reader: BufReader::new(stream),
        }
    }

    /// One command; its reply as text (`None` for a nil), or the error reply.
    fn cmd(&mut self, args: &[&[u8]]) -> Result<Option<String>, String> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.reader.get_mut().write_all(&out).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let (kind, rest) = line.trim_end().split_at(1);
        match kind {
            ":" | "+" => Ok(Some(rest.to_owned())),
            "-" => Err(rest.to_owned()),
            "$" if rest == "-1" => Ok(None),
            "$" => {
                let mut buf = vec![0; rest.parse::<usize>().unwrap() + 2];
                self.reader.read_exact(&mut buf).unwrap();
                buf.truncate(buf.len() - 2);
                Ok(Some(String::from_utf8(buf).unwrap()))
            }
            _ => panic!("unexpected reply {line:?}"),
        }
    }

    /// A key's number (0 when absent).
    fn get(&mut self, key: &str) -> u64 {
        let v = self.cmd(&[b"GET", key.as_bytes()]).unwrap();
        v.map_or(0, |v| v.parse().unwrap())
    }

    fn incr(&mut self, key: &str) -> u64 {
        let v = self.cmd(&[b"INCR", key.as_bytes()]).unwrap();
        v.unwrap().parse().unwrap()
    }

    /// Raises `key` to `v` if it is lower (writers publish out of order).
    fn publish(&mut self, key: &str, v: u64) {
        const MAX: &[u8] = b"if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) \
            then redis.call('SET', KEYS[1], ARGV[1]) end return 0";
        let v = v.to_string();
        self.cmd(&[b"EVAL", MAX, b"1", key.as_bytes(), v.as_bytes()])
            .unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// The children: what the cached functions read, and each role's loop.
// ---------------------------------------------------------------------------------------------

/// The child's environment variable `name`.
fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for a child"))
}

fn src_key(k: u64) -> String {
    format!("{{lin}}:{}:src:{k}", env("MEMOCACHE_TEST_PREFIX"))
}

fn ver_key(k: u64) -> String {
    format!("{{lin}}:{}:ver:{k}", env("MEMOCACHE_TEST_PREFIX"))
}

thread_local! {
    /// The bodies' connection (one per thread: a body does not await between its write and
    /// its read, so an async body on a tokio worker uses its thread's too).
    static BODY: RefCell<Option<Raw>> = const { RefCell::new(None) };
}

/// What the bodies compute: the source value of `k`, read from Redis now.
fn read_source(k: u64) -> u64 {
    BODY.with(|b| {
        b.borrow_mut()
            .get_or_insert_with(|| Raw::connect(&env("MEMOCACHE_TEST_REDIS")))
            .get(&src_key(k))
    })
}

static RUN_SEQ: AtomicU64 = AtomicU64::new(0);

/// Which run computed a value: this process's id and the run's number in it.
fn run_id() -> (u32, u64) {
    (std::process::id(), RUN_SEQ.fetch_add(1, SeqCst))
}

#[cached(ttl = "10m", redis, name = "lin.value", tags = [format!("lin:{k}")])]
fn value(k: u64) -> (u64, (u32, u64)) {
    let v = read_source(k);
    std::thread::yield_now();
    (v, run_id())
}

#[cached(ttl = "10m", redis, name = "lin.value_async", tags = [format!("lin:{k}")])]
async fn value_async(k: u64) -> (u64, (u32, u64)) {
    let v = read_source(k);
    tokio::task::yield_now().await;
    (v, run_id())
}

/// A small deterministic generator of keys, one per thread or task.
struct Rng(u64);

impl Rng {
    fn key(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % KEYS
    }
}

/// The reads checked, the violations seen, and the first violation.
#[derive(Default)]
struct Tally {
    ops: AtomicU64,
    violations: AtomicU64,
    first: std::sync::Mutex<Option<String>>,
}

impl Tally {
    fn check(&self, k: u64, published: u64, (got, (pid, run)): (u64, (u32, u64))) {
        self.ops.fetch_add(1, SeqCst);
        if got < published {
            self.violations.fetch_add(1, SeqCst);
            let what = format!("key {k}: published {published}, got {got} (run {run} of {pid})");
            eprintln!("VIOLATION {what}");
            self.first.lock().unwrap().get_or_insert(what);
        }
    }
}

/// Writers: bump, invalidate (by `mode`), publish.
fn write_loop(mode: &str, seed: u64, tally: &Tally) {
    let urls = env("MEMOCACHE_TEST_REDIS");
    let mut raw = Raw::connect(&urls);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
    if mode == "clear-called" {
        // This process has the caches (it called the functions) before it clears them.
        value(0);
        futures::executor::block_on(value_async(0));
    }
    let start = Instant::now();
    while start.elapsed() < RUN {
        let k = rng.key();
        let v = raw.incr(&src_key(k));
        match mode {
            "key" => {
                invalidate_value(k);
                futures::executor::block_on(invalidate_value_async(k));
            }
            "tag" => {
                memocache::invalidate_tag(&format!("lin:{k}"));
            }
            "all" => {
                invalidate_all_value();
                futures::executor::block_on(invalidate_all_value_async());
            }
            "clear" | "clear-called" => {
                value_cache().clear();
                value_async_cache().clear();
            }
            "refresh" => {
                assert!(refresh_value(k).0 >= v, "refresh_value read an old source");
                assert!(futures::executor::block_on(refresh_value_async(k)).0 >= v);
            }
            other => panic!("unknown writer mode {other}"),
        }
        raw.publish(&ver_key(k), v);
        tally.ops.fetch_add(1, SeqCst);
    }
}

/// Sync readers: a few threads, each reading the published version then calling `value`.
fn sync_read_loop(seed: u64, threads: usize, tally: &Tally) {
    let urls = env("MEMOCACHE_TEST_REDIS");
    std::thread::scope(|s| {
        for t in 0..threads {
            let urls = &urls;
            s.spawn(move || {
                let mut raw = Raw::connect(urls);
                let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (seed * 31 + t as u64 + 1));
                let start = Instant::now();
                while start.elapsed() < RUN {
                    let k = rng.key();
                    let c = raw.get(&ver_key(k));
                    tally.check(k, c, value(k));
                }
            });
        }
    });
}

/// Async readers: tasks on a multi-thread tokio runtime calling `value_async`.
fn async_read_loop(seed: u64, tasks: usize, tally: &'static Tally) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..tasks as u64)
            .map(|t| {
                tokio::spawn(async move {
                    let mut raw = Raw::connect(&env("MEMOCACHE_TEST_REDIS"));
                    let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ (seed * 31 + t + 1));
                    let start = Instant::now();
                    while start.elapsed() < RUN {
                        let k = rng.key();
                        let c = raw.get(&ver_key(k));
                        tally.check(k, c, value_async(k).await);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

/// The child's side: its role's loop, then one `REPORT` line.
#[test]
fn child() {
    let Some(role) = redis_child::role() else {
        return;
    };
    let urls = env("MEMOCACHE_TEST_REDIS");
    let config = if std::env::var("MEMOCACHE_TEST_CLUSTER").is_ok() {
        memocache::redis::Config::cluster(urls.split(',')).unwrap()
    } else {
        memocache::redis::Config::from_url(&urls).unwrap()
    };
    // Generous: this checks the protocol with Redis up, not fail-open under a loaded machine
    // (an invalidation that times out is kept for this process only).
    let config = config
        .key_prefix(env("MEMOCACHE_TEST_PREFIX"))
        .operation_timeout(Duration::from_secs(2));
    memocache::redis::init(config).unwrap();
    let seed: u64 = env("MEMOCACHE_TEST_SEED").parse().unwrap();
    let tally: &'static Tally = Box::leak(Box::default());
    match role.split(':').collect::<Vec<_>>()[..] {
        ["writer", mode] => write_loop(mode, seed, tally),
        ["reader", "sync", n] => sync_read_loop(seed, n.parse().unwrap(), tally),
        ["reader", "async", n] => async_read_loop(seed, n.parse().unwrap(), tally),
        _ => panic!("unknown role {role}"),
    }
    let errors = value_cache().stats().errors + value_async_cache().stats().errors;
    let first = tally.first.lock().unwrap().take().unwrap_or_default();
    redis_child::tell_parent(format!(
        "{} {} {errors}|{first}",
        tally.ops.load(SeqCst),
        tally.violations.load(SeqCst)
    ));
}

// ---------------------------------------------------------------------------------------------
// The parent: one run of writers and readers, and the tests.
// ---------------------------------------------------------------------------------------------

/// A spawned child, killed if the parent panics before collecting it.
struct Spawned(Option<Child>, String);

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Spawned {
    /// Waits for the child: its ops, violations, Redis errors and first violation.
    fn report(mut self) -> (u64, u64, u64, String) {
        let out = self.0.take().unwrap().wait_with_output().unwrap();
        for l in String::from_utf8_lossy(&out.stderr).lines() {
            if l.starts_with("VIOLATION") {
                eprintln!("{l}, read by {}", self.1);
            }
        }
        let line = redis_child::report_in(&out, &self.1);
        let (nums, first) = line.split_once('|').unwrap();
        let n: Vec<u64> = nums.split(' ').map(|n| n.parse().unwrap()).collect();
        (n[0], n[1], n[2], first.to_owned())
    }
}

/// Callers of each reader process at once, (threads of a sync reader, tasks of the async
/// one): one (every answer comes from Redis or the caller's own body run), or several (callers
/// also join the runs of their process).
const ONE: (usize, usize) = (1, 1);
const MANY: (usize, usize) = (2, 8);

/// Runs writers in `mode` and readers (sync and async) against `urls`; asserts that no read
/// returned a value older than the version published before it started.
fn stress(what: &str, urls: &str, cluster: bool, mode: &str, (threads, tasks): (usize, usize)) {
    let prefix = format!("lin-{what}-{}", std::process::id());
    let spawn = |role: &str, seed: usize| {
        let mut cmd = redis_child::command(role, urls);
        cmd.env("MEMOCACHE_TEST_PREFIX", &prefix)
            .env("MEMOCACHE_TEST_SEED", seed.to_string())
            .env_remove("MEMOCACHE_REDIS_URL")
            .stderr(Stdio::piped());
        if cluster {
            cmd.env("MEMOCACHE_TEST_CLUSTER", "1");
        }
        let child = cmd.spawn().unwrap();
        let name = format!("{role} #{seed} (process {})", child.id());
        Spawned(Some(child), name)
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|i| spawn(&format!("writer:{mode}"), i))
        .collect();
    let mut readers: Vec<_> = (0..SYNC_READERS)
        .map(|i| spawn(&format!("reader:sync:{threads}"), 100 + i))
        .collect();
    readers.push(spawn(&format!("reader:async:{tasks}"), 200));
    let names: Vec<&str> = writers.iter().chain(&readers).map(|c| &*c.1).collect();
    let names = names.join(", ");
    let (mut writes, mut reads, mut violations, mut errors) = (0, 0, 0, 0);
    let mut first = String::new();
    for (i, child) in writers.into_iter().chain(readers).enumerate() {
        let (ops, v, e, f) = child.report();
        *(if i < WRITERS { &mut writes } else { &mut reads }) += ops;
        (violations, errors) = (violations + v, errors + e);
        if first.is_empty() {
            first = f;
        }
    }
    println!(
        "{what}: {WRITERS} writer processes ({mode}), {SYNC_READERS}x{threads} sync \
         reader threads + {tasks} async tasks: {writes} writes, {reads} reads checked, \
         {violations} violations, {errors} Redis errors"
    );
    assert!(
        writes > 50 && reads > 200,
        "{what}: too few operations to say anything ({writes} writes, {reads} reads)"
    );
    assert_eq!(
        errors, 0,
        "{what}: Redis errors during the run; the test checks the protocol with Redis up"
    );
    assert_eq!(
        violations, 0,
        "{what}: {violations} of {reads} reads returned a value older than an invalidation \
         that returned, in another process, before the read started (first: {first}; the \
         children: {})",
        names
    );
}

/// [`stress`] against a standalone server of its own.
fn standalone(what: &str, mode: &str, callers: (usize, usize)) {
    if let Some(server) = RedisServer::start() {
        stress(what, &server.url(), false, mode, callers);
    }
}

#[test]
fn invalidate_holds_across_processes() {
    standalone("invalidate", "key", ONE);
}

#[test]
fn invalidate_tag_holds_across_processes() {
    standalone("invalidate_tag", "tag", ONE);
}

#[test]
fn invalidate_all_holds_across_processes() {
    standalone("invalidate_all", "all", ONE);
}

/// `clear()` from a process that called the function before (so it has the cache).
#[test]
fn clear_holds_across_processes() {
    standalone("clear", "clear-called", ONE);
}

#[test]
fn invalidate_holds_across_processes_on_a_cluster() {
    if let Some(cluster) = RedisCluster::start() {
        stress("cluster", &cluster.urls().join(","), true, "key", ONE);
    }
}

/// `f_cache().clear()` from a process that never called `f`: it must reach Redis, as
/// `invalidate_all_f()` does there.
#[test]
fn clear_from_a_process_that_never_called_the_function_holds() {
    standalone("clear-never-called", "clear", ONE);
}

/// Two writers refreshing the same key: the later refresh's value must stay.
#[test]
fn refresh_holds_across_processes() {
    standalone("refresh", "refresh", ONE);
}

/// Several callers per process: a caller that starts after another process's invalidation
/// returned must not join a run of its own process that began before it.
#[test]
fn invalidate_holds_for_callers_joining_runs_of_their_process() {
    standalone("invalidate-joined-runs", "key", MANY);
}
