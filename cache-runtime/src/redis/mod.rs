//! Redis as a shared store (cargo feature `redis`): where it is, how long memocache waits for
//! it, and what happens when it does not answer.
//!
//! ```
//! use cache_runtime::redis::{self, Config};
//! use std::time::Duration;
//!
//! redis::init(
//!     Config::from_url("redis://127.0.0.1:6379/")?
//!         .operation_timeout(Duration::from_millis(20))
//!         .key_prefix("shop"),
//! )?;
//! # Ok::<(), redis::Error>(())
//! ```
//!
//! Without [`init`], the configuration comes from `MEMOCACHE_REDIS_URL` (one URL; several
//! separated by commas for a Redis Cluster), else `redis://127.0.0.1:6379/`; a URL there that
//! cannot be used is logged once as an error and Redis is then never used (fail-open).
//!
//! **Failures.** Each call waits for Redis at most the operation timeout (default 50 ms), all
//! its round trips included; then the cached function runs its body. After three consecutive
//! timeouts or connection failures, calls skip Redis at once until a background `PING`
//! answers (one `tracing` warning when that starts, one info line with counts when it ends,
//! under the target `memocache::redis`).
//!
//! **Keys.** `<prefix>:<cache name>:<encoded key>`, the key readable (`memocache:rates:20240101`);
//! a tag's entries are listed in the set `<prefix>:#tag:{<tag>}`. No entry key forms a Cluster
//! hash tag (braces in names and keys are escaped), so a function's keys spread over all the
//! slots.
//!
//! **Values.** MessagePack in an envelope that carries a fingerprint of the value's type and
//! the function's `version`; anything else under a key (garbage, another type or version, a
//! truncation) reads as a miss and is overwritten by the fresh value. MessagePack has a single
//! nil, so a `Some(None)` of an `Option<Option<T>>` value reads back as `None`.

// Inside (see each file's opening comment):
// - `backend.rs`: the `Redis` marker and its bounds; `tier.rs`: a cache's tier on the
//   operations below, `remote.rs`: the tier as the runtime's `Remote`; `near.rs`,
//   `coherence.rs`: its near copies and their coherence; `stale.rs`: `stale`; `bus.rs`: the
//   invalidation bus (pub/sub), the waits for other processes' runs, the leases kept alive;
// - `config.rs`, `error.rs`: the public types;
// - `keys.rs`, `keyenc.rs`: key names; `codec.rs`: stored bytes; `scripts.rs`: the Lua;
// - `transport.rs` (what a transport is), `pool.rs` (sync, standalone), `io.rs` (the I/O
//   thread: async, and sync on a Cluster);
// - `ops.rs`, `deletes.rs`: the operations, once for every transport; `client.rs`: the client, its
//   transports and `breaker.rs`; `calls.rs`: the sync and async entry points;
//   `pending.rs`: invalidations to replay.

mod backend;
mod breaker;
mod bus;
mod calls;
mod client;
mod codec;
mod coherence;
mod config;
mod deletes;
mod error;
mod io;
mod keyenc;
mod keys;
mod near;
mod ops;
mod pending;
mod pool;
mod remote;
mod scripts;
mod slots;
mod stale;
mod tier;
mod transport;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_URL, ENV_URL};
pub use error::{Error, ErrorKind};

pub(crate) use backend::invalidate_tag;
#[doc(hidden)]
pub use backend::{Redis, RedisKey, RedisValue};
pub(crate) use client::{Client, Lookup};

use std::sync::OnceLock;

static GLOBAL: OnceLock<Client> = OnceLock::new();

/// Sets the Redis configuration of this process. Call it once, before the first call of a
/// Redis-backed function; without it, the configuration comes from `MEMOCACHE_REDIS_URL`.
///
/// Nothing connects here: the first call that needs Redis does.
///
/// # Errors
///
/// [`ErrorKind::AlreadyInitialized`] when the configuration is already set (by an earlier
/// `init`, or by the first use of Redis), [`ErrorKind::Config`] when it cannot be used.
///
/// ```
/// use cache_runtime::redis::{self, Config, ErrorKind};
///
/// redis::init(Config::from_url("redis://127.0.0.1:6379/")?)?;
/// let again = redis::init(Config::from_url("redis://127.0.0.1:6380/")?);
/// assert_eq!(again.unwrap_err().kind(), ErrorKind::AlreadyInitialized);
/// # Ok::<(), redis::Error>(())
/// ```
pub fn init(config: Config) -> Result<(), Error> {
    let client = Client::new(config)?;
    GLOBAL.set(client).map_err(|_| {
        Error::new(
            ErrorKind::AlreadyInitialized,
            "memocache::redis::init was called twice, or after Redis was first used (with the \
             configuration from MEMOCACHE_REDIS_URL): call it once, before any Redis-backed call",
        )
    })
}

/// The process's client if this process uses Redis: [`init`] was called, a Redis cache
/// exists, or `MEMOCACHE_REDIS_URL` is set.
pub(crate) fn in_use() -> Option<&'static Client> {
    GLOBAL
        .get()
        .or_else(|| std::env::var_os(ENV_URL).is_some().then(global))
}

/// The process's client: the one [`init`] set, else one made from the environment.
pub(crate) fn global() -> &'static Client {
    GLOBAL.get_or_init(|| match Config::from_env().and_then(Client::new) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(
                target: "memocache::redis",
                error = %e,
                "{ENV_URL} cannot be used: Redis-backed functions run without Redis"
            );
            Client::disabled(e)
        }
    })
}
