//! A server in a child process (`web_app --addr 127.0.0.1:0 --db ...`), in a temp dir of
//! its own: each has its own caches and counters, which are process-wide. Used by the
//! selftest (its `MEMOCACHE_DISABLE=1` run) and by the tests (one server per test).

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A directory under the system's temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory whose name includes `label`.
    pub fn new(label: &str) -> io::Result<TempDir> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "memocache-{label}-{}-{}-{nanos}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `web_app` server process; killed and reaped on drop.
pub struct ChildServer {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    /// Kept open: the child must not write to a closed pipe.
    _stdout: BufReader<ChildStdout>,
    dir: TempDir,
}

impl ChildServer {
    /// Starts `exe` (the `web_app` binary) on a free loopback port with a fresh database,
    /// with extra arguments `args` and environment `env`, and waits for its
    /// `listening on http://ADDR` line.
    pub fn start(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> io::Result<ChildServer> {
        let dir = TempDir::new("web-app")?;
        let mut cmd = Command::new(exe);
        cmd.arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--db")
            .arg(dir.path().join("shop.sqlite"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env_remove("MEMOCACHE_DISABLE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn()?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err(io::Error::other("no stdout pipe"));
        };
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let addr = read.ok().and_then(|_| {
            line.trim()
                .strip_prefix("listening on http://")
                .and_then(|a| a.parse().ok())
        });
        match addr {
            Some(addr) => Ok(ChildServer {
                addr,
                child,
                _stdout: stdout,
                dir,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(io::Error::other(format!(
                    "the server did not start: first line {line:?}"
                )))
            }
        }
    }

    /// The directory of its database.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
