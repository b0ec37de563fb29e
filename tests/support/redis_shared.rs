//! One Redis (a server or a 3-master Cluster) for a whole test binary: the parent starts it at
//! first use and stops it when the binary exits, its children (see `redis_child.rs`) reach
//! it through `MEMOCACHE_TEST_REDIS`, and either way memocache's client is initialised for
//! it, with a generous operation timeout and whatever the binary adds.
//!
//! Include it beside the modules it uses, under these names (in the crate's root):
//!
//! ```ignore
//! #[path = "support/redis_child.rs"]
//! mod redis_child;
//! #[path = "support/redis_server.rs"]
//! mod redis_server;
//! #[path = "support/redis_shared.rs"]
//! mod redis_shared;
//!
//! static REDIS: Shared<RedisServer> = Shared::new(|c| c); // or `|c| c.lease(..)`, ...
//! ```
//!
//! Where `redis-server` is missing, the first use prints `skipped: redis-server not found`
//! and [`Shared::get`] is `None` (the tests then return), unless `MEMOCACHE_REQUIRE_REDIS=1`,
//! when it panics (see `redis_server.rs`).

use crate::redis_child;
use crate::redis_server::{RedisCluster, RedisServer};
use memocache::redis::Config;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// What a binary's Redis can be: a standalone server or a Cluster.
pub trait Target: Sized + Send + Sync + 'static {
    /// Started, or `None` after the skip line.
    fn start() -> Option<Self>;
    /// The URLs children reach it at, joined by commas.
    fn urls(&self) -> String;
    /// The client's configuration for [`Target::urls`].
    fn config(urls: &str) -> Config;
    /// Stops it when this process does (see `RedisServer::stop_with_this_process`).
    fn stop_with_this_process(&self);
}

impl Target for RedisServer {
    fn start() -> Option<Self> {
        RedisServer::start()
    }

    fn urls(&self) -> String {
        self.url()
    }

    fn config(urls: &str) -> Config {
        Config::from_url(urls).expect("a server URL")
    }

    fn stop_with_this_process(&self) {
        RedisServer::stop_with_this_process(self);
    }
}

impl Target for RedisCluster {
    fn start() -> Option<Self> {
        RedisCluster::start()
    }

    fn urls(&self) -> String {
        RedisCluster::urls(self).join(",")
    }

    fn config(urls: &str) -> Config {
        Config::cluster(urls.split(',')).expect("the Cluster's URLs")
    }

    fn stop_with_this_process(&self) {
        for node in &self.nodes {
            node.stop_with_this_process();
        }
    }
}

/// The Redis of a test binary (see the module's doc), kept in a `static`.
pub struct Shared<T> {
    redis: OnceLock<Option<T>>,
    /// The binary's own settings, over the generous operation timeout.
    configure: fn(Config) -> Config,
}

impl<T: Target> Shared<T> {
    /// The binary's Redis, the client configured by `configure` (`|c| c` for nothing more).
    pub const fn new(configure: fn(Config) -> Config) -> Self {
        Shared {
            redis: OnceLock::new(),
            configure,
        }
    }

    /// The Redis this parent started, or `None`: in a child (which uses its parent's), or
    /// after the skip line. The first call starts it and initialises the client.
    pub fn get(&'static self) -> Option<&'static T> {
        self.redis
            .get_or_init(|| {
                let urls = std::env::var("MEMOCACHE_TEST_REDIS").ok();
                let redis = match urls {
                    // A child: the parent's.
                    Some(_) => None,
                    None => T::start(),
                };
                if let Some(r) = &redis {
                    r.stop_with_this_process();
                }
                if let Some(urls) = urls.or_else(|| redis.as_ref().map(T::urls)) {
                    // Generous: the machine running the tests may be loaded; the fault tests
                    // check the timeouts.
                    let config = T::config(&urls).operation_timeout(Duration::from_secs(1));
                    memocache::redis::init((self.configure)(config))
                        .expect("the client initialised once");
                }
                redis
            })
            .as_ref()
    }

    /// In a child: its role, once the client is initialised for the parent's Redis. In the
    /// parent: `None`.
    #[allow(dead_code)] // not by the binaries without children (redis_lease.rs)
    pub fn child_role(&'static self) -> Option<String> {
        let role = redis_child::role()?;
        self.get();
        Some(role)
    }

    /// This binary as a child in `role`, pointed at this parent's Redis.
    pub fn command(&'static self, role: &str) -> Command {
        let redis = self.get().expect("a parent with a Redis");
        redis_child::command(role, &redis.urls())
    }

    /// Runs `role` in a child (see [`Shared::command`]) to its end: what it reported.
    #[allow(dead_code)] // not by the binaries whose children all run at once
    pub fn in_child(&'static self, role: &str) -> String {
        let mut cmd = self.command(role);
        // As `Command::output` would: no stdin, stderr captured (shown if the child fails).
        cmd.stdin(Stdio::null()).stderr(Stdio::piped());
        let child = cmd.spawn().expect("the child starts");
        redis_child::report(child, role)
    }
}
