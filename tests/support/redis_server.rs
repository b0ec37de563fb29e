//! Real `redis-server` processes for tests and benchmarks: a standalone server or a 3-master
//! Cluster, each node a child process on a free loopback port, with faults (kill, restart on
//! the same port, `SIGSTOP`/`SIGCONT`) and cleanup when dropped (also when a test panics).
//!
//! Include it with `#[path = ".../tests/support/redis_server.rs"] mod redis_server;`. It uses
//! std only. Where `redis-server` is missing, [`RedisServer::start`] and [`RedisCluster::start`]
//! print `skipped: redis-server not found` and return `None`, unless
//! `MEMOCACHE_REQUIRE_REDIS=1`, when they panic (so CI fails rather than skips).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Whether `redis-server` (and so the tests that need it) can run here. Prints the skip line
/// when not, and panics instead when `MEMOCACHE_REQUIRE_REDIS=1`.
pub fn redis_available() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("MEMOCACHE_REQUIRE_REDIS").as_deref() != Ok("1"),
            "redis-server not found, and MEMOCACHE_REQUIRE_REDIS=1"
        );
        println!("skipped: redis-server not found");
    }
    found
}

fn pseudo_random() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut z =
        t ^ (u64::from(std::process::id()) << 32) ^ N.fetch_add(0x9E37_79B9, Ordering::Relaxed);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A port in 20000..55000 that is free now, with its Cluster bus port (+10000) free too.
fn free_port() -> u16 {
    loop {
        let port = 20_000 + (pseudo_random() % 35_000) as u16;
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free(port) && free(port + 10_000) {
            return port;
        }
    }
}

/// `PING` over a raw socket: whether the server at `port` answers `+PONG` within `wait`.
fn pings(port: u16, wait: Duration) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), wait) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(wait));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

/// One `redis-server` child process.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    cluster: bool,
    child: Option<Child>,
    paused: bool,
}

impl RedisServer {
    /// A standalone server, or `None` (after the skip line) where `redis-server` is missing.
    pub fn start() -> Option<RedisServer> {
        redis_available().then(|| RedisServer::spawn(false))
    }

    fn spawn(cluster: bool) -> RedisServer {
        for _ in 0..20 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "memocache-redis-{}-{port}-{:x}",
                std::process::id(),
                pseudo_random()
            ));
            std::fs::create_dir_all(&dir).expect("a temporary directory");
            let mut server = RedisServer {
                port,
                dir,
                cluster,
                child: None,
                paused: false,
            };
            if server.launch().is_ok() {
                return server;
            }
            // Someone took the port between the check and the start: another one.
        }
        panic!("could not start redis-server on a free port after 20 attempts");
    }

    fn launch(&mut self) -> Result<(), String> {
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(&self.dir)
        .args(["--daemonize", "no", "--logfile", "redis.log"]);
        if self.cluster {
            cmd.args([
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
            ]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run redis-server: {e}"))?;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("redis-server exited ({status}): {}", self.log()));
            }
            if pings(self.port, Duration::from_millis(200)) {
                self.child = Some(child);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!(
            "redis-server did not answer within 10 s: {}",
            self.log()
        ))
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `SIGKILL`, and waits for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.paused = false;
    }

    /// Starts the server again on the same port and directory (a Cluster node keeps its
    /// identity from `nodes.conf`), killing it first if it runs.
    pub fn restart(&mut self) {
        self.kill();
        let start = Instant::now();
        loop {
            match self.launch() {
                Ok(()) => return,
                Err(e) if start.elapsed() > Duration::from_secs(10) => {
                    panic!("restart on port {}: {e}", self.port)
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn signal(&self, sig: &str) {
        let pid = self.pid().expect("the server runs");
        let ok = Command::new("sh")
            .args(["-c", &format!("kill -{sig} {pid}")])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{sig} {pid}");
    }

    /// `SIGSTOP`: the kernel still accepts connections, the server answers nothing.
    pub fn pause(&mut self) {
        self.signal("STOP");
        self.paused = true;
    }

    /// `SIGCONT` after [`pause`](Self::pause).
    pub fn resume(&mut self) {
        self.signal("CONT");
        self.paused = false;
    }

    /// Makes the server stop when this process does, for a server kept in a `static` (whose
    /// `Drop` never runs): a small watchdog process kills it once this process is gone.
    pub fn stop_with_this_process(&self) {
        let Some(pid) = self.pid() else { return };
        let script = format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.2; done; kill -9 {pid} 2>/dev/null",
            std::process::id()
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    /// Runs `redis-cli` against this server; its standard output, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if self.paused {
            // SIGKILL reaches a stopped process too; resume anyway so it exits at once.
            if let Some(pid) = self.pid() {
                let _ = Command::new("sh")
                    .args(["-c", &format!("kill -CONT {pid}")])
                    .status();
            }
        }
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis Cluster of three masters, no replicas.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Three `--cluster-enabled` servers joined by `redis-cli --cluster create`, once every
    /// node reports `cluster_state:ok` with all slots; `None` where `redis-server` is missing.
    pub fn start() -> Option<RedisCluster> {
        if !redis_available() {
            return None;
        }
        let nodes: Vec<RedisServer> = (0..3).map(|_| RedisServer::spawn(true)).collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        assert!(
            out.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let cluster = RedisCluster { nodes };
        cluster.wait_ok();
        Some(cluster)
    }

    /// Waits (up to 30 s) until every node reports the cluster ok, knowing all nodes and slots.
    pub fn wait_ok(&self) {
        let start = Instant::now();
        let n = self.nodes.len().to_string();
        loop {
            let ok = self.nodes.iter().all(|node| {
                let info = node.cli(&["cluster", "info"]);
                info.contains("cluster_state:ok")
                    && info.contains("cluster_slots_ok:16384")
                    && info.contains(&format!("cluster_known_nodes:{n}"))
            });
            if ok {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the cluster did not become ok"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}
