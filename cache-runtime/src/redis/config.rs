//! [`Config`]: where Redis is (one server or a Cluster's nodes), the timeouts, the key
//! prefix; and `MEMOCACHE_REDIS_URL`.

use super::Error;
use redis::{ConnectionInfo, IntoConnectionInfo};
use std::fmt;
use std::time::Duration;

/// The environment variable read when [`init`](super::init) was not called: one URL, or
/// several comma-separated for a Redis Cluster.
///
/// ```
/// assert_eq!(cache_runtime::redis::ENV_URL, "MEMOCACHE_REDIS_URL");
/// ```
pub const ENV_URL: &str = "MEMOCACHE_REDIS_URL";
/// The server used when neither [`init`](super::init) nor `MEMOCACHE_REDIS_URL` says otherwise.
///
/// ```
/// use cache_runtime::redis::{Config, DEFAULT_URL};
///
/// assert!(Config::from_url(DEFAULT_URL).is_ok());
/// ```
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379/";

/// Where memocache finds Redis, and how long it waits for it.
///
/// Nothing connects when a `Config` is made or passed to [`init`](super::init): the first
/// call that needs Redis does, and a Redis that is down, slow or refusing costs that call at
/// most the [operation timeout](Config::operation_timeout) before the function runs its body
/// without Redis.
///
/// ```
/// use cache_runtime::redis::Config;
/// use std::time::Duration;
///
/// let config = Config::from_url("redis://127.0.0.1:6379/0")?
///     .operation_timeout(Duration::from_millis(20))
///     .connect_timeout(Duration::from_millis(250))
///     .key_prefix("shop");
/// # let _ = config;
/// # Ok::<(), cache_runtime::redis::Error>(())
/// ```
#[derive(Clone)]
pub struct Config {
    pub(super) target: Target,
    pub(super) connect_timeout: Duration,
    pub(super) operation_timeout: Duration,
    pub(super) prefix: String,
    pub(super) pool_size: usize,
    pub(super) lease: Duration,
}

#[derive(Clone)]
pub(super) enum Target {
    Standalone(ConnectionInfo),
    Cluster(Vec<ConnectionInfo>),
}

fn parse(url: &str) -> Result<ConnectionInfo, Error> {
    url.trim().into_connection_info().map_err(|e| {
        Error::config(format!(
            "`{}` is not a usable Redis URL: {e}",
            redacted(url)
        ))
    })
}

/// `url` without its password, for messages.
fn redacted(url: &str) -> String {
    let url = url.trim();
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

impl Config {
    /// A standalone server (or a proxy), by URL: `redis://[user:password@]host[:port][/db]`,
    /// or `redis+unix:///path/to/socket`. TLS (`rediss://`) is not built in.
    ///
    /// ```
    /// use cache_runtime::redis::Config;
    ///
    /// assert!(Config::from_url("redis://cache.internal:6380/2").is_ok());
    /// assert!(Config::from_url("not a url").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<Config, Error> {
        Ok(Config::with(Target::Standalone(parse(url)?)))
    }

    /// A Redis Cluster, by the URLs of some of its nodes (one reachable node is enough: the
    /// others are discovered). Keys spread over all the slots; `MOVED` and `ASK` redirections
    /// are followed.
    ///
    /// ```
    /// use cache_runtime::redis::Config;
    ///
    /// let config = Config::cluster(["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"])?;
    /// # let _ = config;
    /// # Ok::<(), cache_runtime::redis::Error>(())
    /// ```
    pub fn cluster<I, S>(nodes: I) -> Result<Config, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let nodes = nodes
            .into_iter()
            .map(|n| parse(n.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(Error::config(
                "a cluster needs the URL of at least one node (no node given)",
            ));
        }
        Ok(Config::with(Target::Cluster(nodes)))
    }

    /// The configuration from `MEMOCACHE_REDIS_URL`: unset or empty, `redis://127.0.0.1:6379/`;
    /// one URL, a standalone server; several separated by commas (or one followed by a
    /// comma), a Cluster. This is what memocache uses when [`init`](super::init) is not called.
    ///
    /// ```
    /// use cache_runtime::redis::Config;
    ///
    /// // With MEMOCACHE_REDIS_URL="redis://a:7000,redis://b:7000": a Cluster of two seeds.
    /// let config = Config::from_env()?;
    /// # let _ = config;
    /// # Ok::<(), cache_runtime::redis::Error>(())
    /// ```
    pub fn from_env() -> Result<Config, Error> {
        match std::env::var(ENV_URL) {
            Ok(v) if !v.trim().is_empty() => Config::from_list(&v),
            Ok(_) | Err(std::env::VarError::NotPresent) => Config::from_url(DEFAULT_URL),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(Error::config(format!("{ENV_URL} is not valid UTF-8")))
            }
        }
    }

    pub(super) fn from_list(v: &str) -> Result<Config, Error> {
        if v.contains(',') {
            Config::cluster(v.split(',').map(str::trim).filter(|s| !s.is_empty()))
        } else {
            Config::from_url(v)
        }
    }

    fn with(target: Target) -> Config {
        Config {
            target,
            connect_timeout: Duration::from_millis(500),
            operation_timeout: Duration::from_millis(50),
            prefix: "memocache".to_owned(),
            pool_size: 8,
            lease: Duration::from_secs(5),
        }
    }

    /// The longest wait for a new connection (default 500 ms). A connection made for a call
    /// also stays within that call's operation timeout; this bound is for the background
    /// reconnection.
    ///
    /// ```
    /// # use cache_runtime::redis::Config;
    /// let config = Config::from_url("redis://127.0.0.1/")?.connect_timeout(std::time::Duration::from_secs(1));
    /// # let _ = config;
    /// # Ok::<(), cache_runtime::redis::Error>(())
    /// ```
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Config {
        self.connect_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The longest a call waits for Redis, all its round trips included (default 50 ms; at
    /// least 1 ms). Past it the call runs the function's body without Redis. Each round trip of
    /// an invalidation of a whole cache or tag (which take one per thousand keys) has this
    /// bound.
    ///
    /// ```
    /// # use cache_runtime::redis::Config;
    /// let config = Config::from_url("redis://127.0.0.1/")?.operation_timeout(std::time::Duration::from_millis(10));
    /// # let _ = config;
    /// # Ok::<(), cache_runtime::redis::Error>(())
    /// ```
    #[must_use]
    pub fn operation_timeout(mut self, timeout: Duration) -> Config {
        self.operation_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The first part of every key memocache writes (default `memocache`):
    /// `<prefix>:<cache name>:<key>`. Braces are escaped (`%7B`, `%7D`), so a prefix never
    /// forms a Cluster hash tag.
    ///
    /// ```
    /// # use cache_runtime::redis::Config;
    /// let config = Config::from_url("redis://127.0.0.1/")?.key_prefix("shop:v2");
    /// # let _ = config;
    /// # Ok::<(), cache_runtime::redis::Error>(())
    /// ```
    #[must_use]
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Config {
        self.prefix = prefix.into();
        self
    }

    /// How many connections sync functions keep per process (default 8, at least 1); a call
    /// that finds them all busy waits within its operation timeout. Async functions share one
    /// multiplexed connection.
    ///
    /// ```
    /// # use cache_runtime::redis::Config;
    /// let config = Config::from_url("redis://127.0.0.1/")?.pool_size(16);
    /// # let _ = config;
    /// # Ok::<(), cache_runtime::redis::Error>(())
    /// ```
    #[must_use]
    pub fn pool_size(mut self, connections: usize) -> Config {
        self.pool_size = connections.max(1);
        self
    }

    /// How long a run of the body holds its key for the whole fleet (default 5 s, at least
    /// 100 ms): the other processes wait for its value meanwhile. The lease is extended every
    /// third of this while the body runs, so a long body keeps it; a holder that dies (a
    /// `SIGKILL`, a lost network) costs the others at most this long, after which one of them
    /// takes the key over. A call waits at most ten leases for another process's run; past
    /// that it runs the body itself (and stores nothing).
    ///
    /// ```
    /// # use cache_runtime::redis::Config;
    /// use std::time::Duration;
    /// let config = Config::from_url("redis://127.0.0.1/")?.lease(Duration::from_secs(2));
    /// # let _ = config;
    /// # Ok::<(), cache_runtime::redis::Error>(())
    /// ```
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Config {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The addresses only: a URL's password stays out of logs.
        let nodes: Vec<String> = match &self.target {
            Target::Standalone(n) => vec![n.addr().to_string()],
            Target::Cluster(ns) => ns.iter().map(|n| n.addr().to_string()).collect(),
        };
        f.debug_struct("Config")
            .field("cluster", &matches!(self.target, Target::Cluster(_)))
            .field("nodes", &nodes)
            .field("connect_timeout", &self.connect_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("prefix", &self.prefix)
            .field("pool_size", &self.pool_size)
            .field("lease", &self.lease)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_with_commas_are_clusters() {
        assert!(matches!(
            Config::from_list("redis://a:1").unwrap().target,
            Target::Standalone(_)
        ));
        let c = Config::from_list(" redis://a:1 , redis://b:2 ").unwrap();
        assert!(matches!(&c.target, Target::Cluster(n) if n.len() == 2));
        assert!(
            matches!(&Config::from_list("redis://a:1,").unwrap().target, Target::Cluster(n) if n.len() == 1)
        );
        assert!(Config::from_list(",").is_err());
        assert!(Config::from_list("redis://a:1,bogus").is_err());
    }

    #[test]
    fn bad_urls_are_config_errors_without_the_password() {
        for url in [
            "http://x/",
            "",
            "redis://",
            "rediss://u:secret@h:1/",
            "redis://u:secret@h:notaport/",
        ] {
            let e = Config::from_url(url).map(|_| ()).unwrap_err();
            assert_eq!(e.kind(), super::super::ErrorKind::Config, "{url}");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }

    #[test]
    fn debug_hides_passwords() {
        let c = Config::from_url("redis://user:hunter2@127.0.0.1:6380/").unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("6380") && !d.contains("hunter2"), "{d}");
    }

    #[test]
    fn timeouts_have_a_floor() {
        let c = Config::from_url(DEFAULT_URL)
            .unwrap()
            .operation_timeout(Duration::ZERO)
            .pool_size(0);
        assert_eq!(c.operation_timeout, Duration::from_millis(1));
        assert_eq!(c.pool_size, 1);
    }
}
