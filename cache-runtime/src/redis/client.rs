//! [`Client`]: the Redis tier's entry points for the runtime, each in a sync (`_blocking`)
//! and an async form, each bounded by the operation timeout, each behind the circuit breaker.
//!
//! Sync forms never build or enter a runtime on the caller's thread (see `transport.rs`);
//! async forms only await channels answered by memocache's I/O thread, so any executor can
//! poll them, and their futures are `Send`.

use super::breaker::{Breaker, PROBE_FIRST, PROBE_MAX};
use super::codec::{Codec, Token};
use super::config::{Config, Target};
use super::io::{Io, Setup};
use super::keys::KeySpace;
use super::pool::Pool;
use super::transport::{Exec, Req, run_ready};
use super::{Error, ops};
use redis::Value;
use std::future::{Future, ready};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// What a lookup found under an entry key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A value this codec can read (decode it: it may still fail), and the key's remaining
    /// time to live (`None`: no expiry).
    Found {
        bytes: Vec<u8>,
        pttl_ms: Option<u64>,
    },
    /// Nothing usable was there: our placeholder is now, with `PX lease_ms`. Run the body,
    /// then [`fill`](Client::fill_blocking) or [`release`](Client::release_blocking).
    Leased,
    /// Another run holds the lease (for this much longer).
    Busy { pttl_ms: Option<u64> },
}

/// A connection to Redis, standalone or Cluster. Cheap to clone (shared).
#[derive(Clone)]
pub(crate) struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// The server (or the Cluster's first node), named in logs.
    server: String,
    keys: KeySpace,
    op_timeout: Duration,
    transport: Transport,
    breaker: Breaker,
    errors: AtomicU64,
}

enum Transport {
    Standalone {
        pool: Box<Pool>,
        io: Io,
    },
    Cluster {
        io: Io,
    },
    /// A configuration that could not be used: every call fails at once with this.
    Disabled(Error),
}

/// Sync callers on a standalone server: a pooled connection, or the I/O thread's multiplexed
/// one when all pooled connections are busy.
struct PoolExec<'a>(&'a Pool, &'a Io);

impl Exec for PoolExec<'_> {
    fn cluster(&self) -> bool {
        false
    }

    fn exec(
        &self,
        req: Req,
        deadline: Instant,
    ) -> impl Future<Output = Result<Value, Error>> + Send {
        ready(match self.0.run(&req, deadline) {
            Some(out) => out,
            None => self.1.run_blocking(req, deadline),
        })
    }
}

/// The I/O thread, the caller blocking on the answer (sync callers on a Cluster).
struct IoWait<'a>(&'a Io);

impl Exec for IoWait<'_> {
    fn cluster(&self) -> bool {
        true
    }

    fn exec(
        &self,
        req: Req,
        deadline: Instant,
    ) -> impl Future<Output = Result<Value, Error>> + Send {
        ready(self.0.run_blocking(req, deadline))
    }
}

/// The I/O thread, the caller awaiting the answer.
struct IoAsync<'a> {
    io: &'a Io,
    cluster: bool,
}

impl Exec for IoAsync<'_> {
    fn cluster(&self) -> bool {
        self.cluster
    }

    fn exec(
        &self,
        req: Req,
        deadline: Instant,
    ) -> impl Future<Output = Result<Value, Error>> + Send {
        self.io.run(req, deadline)
    }
}

/// Runs `$body` (an `ops::` call over `$ex`, with `$dl` the call's deadline) on the blocking
/// transport, behind the breaker.
macro_rules! blocking {
    ($self:ident, |$ex:ident, $dl:ident| $body:expr) => {{
        $self.inner.breaker.admit()?;
        let $dl = Instant::now() + $self.inner.op_timeout;
        let out = match &$self.inner.transport {
            Transport::Standalone { pool, io } => {
                let $ex = &PoolExec(pool, io);
                run_ready($body)
            }
            Transport::Cluster { io } => {
                let $ex = &IoWait(io);
                run_ready($body)
            }
            Transport::Disabled(e) => Err(e.clone()),
        };
        $self.record(out)
    }};
}

/// The async counterpart of `blocking!`.
macro_rules! awaiting {
    ($self:ident, |$ex:ident, $dl:ident| $body:expr) => {{
        $self.inner.breaker.admit()?;
        let $dl = Instant::now() + $self.inner.op_timeout;
        let out = match $self.async_exec() {
            Ok(ex) => {
                let $ex = &ex;
                $body.await
            }
            Err(e) => Err(e),
        };
        $self.record(out)
    }};
}

impl Client {
    /// A client for `config`. Nothing connects until the first call.
    pub(crate) fn new(config: Config) -> Result<Client, Error> {
        let server = match &config.target {
            Target::Standalone(info) => info.addr().to_string(),
            Target::Cluster(nodes) => nodes
                .first()
                .map(|n| format!("cluster {}", n.addr()))
                .unwrap_or_default(),
        };
        let Config {
            target,
            connect_timeout,
            operation_timeout,
            prefix,
            pool_size,
        } = config;
        let transport = match target {
            Target::Standalone(info) => {
                let client = redis::Client::open(info).map_err(|e| Error::config(e.to_string()))?;
                let setup = Setup::Single {
                    client: client.clone(),
                    connect_timeout,
                    op_timeout: operation_timeout,
                };
                Transport::Standalone {
                    pool: Box::new(Pool::new(client, pool_size, connect_timeout)),
                    io: Io::new(setup),
                }
            }
            Target::Cluster(nodes) => {
                let client = redis::cluster::ClusterClientBuilder::new(nodes)
                    .connection_timeout(connect_timeout)
                    .response_timeout(operation_timeout)
                    .retries(3)
                    .min_retry_wait(2)
                    .max_retry_wait(50)
                    .build()
                    .map_err(|e| Error::config(e.to_string()))?;
                Transport::Cluster {
                    io: Io::new(Setup::Cluster(client)),
                }
            }
        };
        Ok(Client::with(
            server,
            KeySpace::new(&prefix),
            operation_timeout,
            transport,
        ))
    }

    /// A client whose every call fails with `error` (an unusable configuration from the
    /// environment: fail-open, after one logged error).
    pub(crate) fn disabled(error: Error) -> Client {
        Client::with(
            String::new(),
            KeySpace::new("memocache"),
            Duration::from_millis(1),
            Transport::Disabled(error),
        )
    }

    fn with(server: String, keys: KeySpace, op_timeout: Duration, transport: Transport) -> Client {
        let breaker = Breaker::default();
        let inner = Inner {
            server,
            keys,
            op_timeout,
            transport,
            breaker,
            errors: AtomicU64::new(0),
        };
        Client {
            inner: Arc::new(inner),
        }
    }

    /// The key namespace (prefix) of this client.
    pub(crate) fn keys(&self) -> &KeySpace {
        &self.inner.keys
    }

    /// How many calls failed since the client was made (skipped calls not included).
    pub(crate) fn errors(&self) -> u64 {
        self.inner.errors.load(Ordering::Relaxed)
    }

    /// Whether the breaker is open: calls skip Redis until a background `PING` answers.
    pub(crate) fn is_skipping(&self) -> bool {
        self.inner.breaker.is_open()
    }

    fn async_exec(&self) -> Result<IoAsync<'_>, Error> {
        match &self.inner.transport {
            Transport::Standalone { io, .. } => Ok(IoAsync { io, cluster: false }),
            Transport::Cluster { io } => Ok(IoAsync { io, cluster: true }),
            Transport::Disabled(e) => Err(e.clone()),
        }
    }

    fn record<T>(&self, out: Result<T, Error>) -> Result<T, Error> {
        match &out {
            Ok(_) => self.inner.breaker.success(),
            Err(e) => {
                self.inner.errors.fetch_add(1, Ordering::Relaxed);
                if self.inner.breaker.failure(e, &self.inner.server) {
                    self.start_probe();
                }
            }
        }
        out
    }

    /// Pings in the background until Redis answers, then closes the breaker.
    fn start_probe(&self) {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let spawned = std::thread::Builder::new()
            .name("memocache-redis-probe".into())
            .spawn(move || {
                let mut wait = PROBE_FIRST;
                loop {
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(PROBE_MAX);
                    let Some(inner) = weak.upgrade() else { return };
                    if !inner.breaker.is_open()
                        || (Client {
                            inner: inner.clone(),
                        })
                        .probe()
                        .is_ok()
                    {
                        inner.breaker.close(&inner.server);
                        return;
                    }
                }
            });
        if spawned.is_err() {
            // No thread to probe with: stop skipping rather than skip forever.
            self.inner.breaker.close(&self.inner.server);
        }
    }

    /// One probe: `PING` through each transport this client has used.
    fn probe(&self) -> Result<(), Error> {
        let dl = Instant::now() + self.inner.op_timeout;
        match &self.inner.transport {
            Transport::Standalone { pool, io } => {
                run_ready(ops::ping(&PoolExec(pool, io), dl))?;
                if !io.started() {
                    return Ok(());
                }
                let dl = Instant::now() + self.inner.op_timeout;
                io.run_blocking(Req::Cmd(redis::cmd("PING")), dl).map(drop)
            }
            Transport::Cluster { io } => run_ready(ops::ping(&IoWait(io), dl)),
            Transport::Disabled(e) => Err(e.clone()),
        }
    }

    /// Reads `key`: the value if one of `codec`'s is there, else takes the lease (our
    /// placeholder with `PX lease_ms`, listed in each of `tag_keys`), else reports another
    /// holder's lease. Garbage, values of other types or versions, and non-strings under
    /// the key count as nothing and are overwritten by the placeholder.
    pub(crate) fn lookup_blocking(
        &self,
        key: &[u8],
        token: &Token,
        lease_ms: u64,
        tag_keys: &[Vec<u8>],
        codec: &Codec,
    ) -> Result<Lookup, Error> {
        blocking!(self, |ex, dl| ops::lookup(
            ex,
            key,
            token,
            lease_ms.max(1),
            tag_keys,
            codec,
            None,
            dl
        ))
    }

    /// [`lookup_blocking`](Self::lookup_blocking) for async callers.
    pub(crate) async fn lookup(
        &self,
        key: &[u8],
        token: &Token,
        lease_ms: u64,
        tag_keys: &[Vec<u8>],
        codec: &Codec,
    ) -> Result<Lookup, Error> {
        awaiting!(self, |ex, dl| ops::lookup(
            ex,
            key,
            token,
            lease_ms.max(1),
            tag_keys,
            codec,
            None,
            dl
        ))
    }

    /// A lookup after `bad`, what the previous lookup found, failed to decode: `bad` counts
    /// as nothing (and is overwritten by our lease) if it is still there.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn lookup_replacing_blocking(
        &self,
        key: &[u8],
        token: &Token,
        lease_ms: u64,
        tag_keys: &[Vec<u8>],
        codec: &Codec,
        bad: &[u8],
    ) -> Result<Lookup, Error> {
        blocking!(self, |ex, dl| ops::lookup(
            ex,
            key,
            token,
            lease_ms.max(1),
            tag_keys,
            codec,
            Some(bad),
            dl
        ))
    }

    /// [`lookup_replacing_blocking`](Self::lookup_replacing_blocking) for async callers.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn lookup_replacing(
        &self,
        key: &[u8],
        token: &Token,
        lease_ms: u64,
        tag_keys: &[Vec<u8>],
        codec: &Codec,
        bad: &[u8],
    ) -> Result<Lookup, Error> {
        awaiting!(self, |ex, dl| ops::lookup(
            ex,
            key,
            token,
            lease_ms.max(1),
            tag_keys,
            codec,
            Some(bad),
            dl
        ))
    }

    /// Stores `value` with `PX px_ms` only if our lease is still there (true), listing the key in
    /// each of `tag_keys`. False: an invalidation (or a refresh) removed the lease during the
    /// run, or it expired; nothing was stored.
    pub(crate) fn fill_blocking(
        &self,
        key: &[u8],
        token: &Token,
        value: &[u8],
        px_ms: u64,
        tag_keys: &[Vec<u8>],
    ) -> Result<bool, Error> {
        blocking!(self, |ex, dl| ops::fill(
            ex,
            key,
            token,
            value,
            px_ms.max(1),
            tag_keys,
            dl
        ))
    }

    /// [`fill_blocking`](Self::fill_blocking) for async callers.
    pub(crate) async fn fill(
        &self,
        key: &[u8],
        token: &Token,
        value: &[u8],
        px_ms: u64,
        tag_keys: &[Vec<u8>],
    ) -> Result<bool, Error> {
        awaiting!(self, |ex, dl| ops::fill(
            ex,
            key,
            token,
            value,
            px_ms.max(1),
            tag_keys,
            dl
        ))
    }

    /// Deletes our lease (after an `Err`, a panic), and nothing else: true if it was ours.
    pub(crate) fn release_blocking(&self, key: &[u8], token: &Token) -> Result<bool, Error> {
        blocking!(self, |ex, dl| ops::release(ex, key, token, dl))
    }

    /// [`release_blocking`](Self::release_blocking) for async callers.
    pub(crate) async fn release(&self, key: &[u8], token: &Token) -> Result<bool, Error> {
        awaiting!(self, |ex, dl| ops::release(ex, key, token, dl))
    }

    /// Releases our lease without waiting (from a destructor: a cancelled future, an unwinding
    /// thread). If it does not reach Redis, the lease expires by itself.
    pub(crate) fn release_detached(&self, key: &[u8], token: &Token) {
        if self.inner.breaker.is_open() {
            return;
        }
        let io = match &self.inner.transport {
            Transport::Standalone { io, .. } | Transport::Cluster { io } => io,
            Transport::Disabled(_) => return,
        };
        io.detach(
            ops::release_req(key, token),
            Instant::now() + self.inner.op_timeout,
        );
    }

    /// Sets our lease's expiry to `px_ms` while a long body runs (and raises its tag sets'):
    /// false if the lease is no longer ours.
    pub(crate) fn extend_blocking(
        &self,
        key: &[u8],
        token: &Token,
        px_ms: u64,
        tag_keys: &[Vec<u8>],
    ) -> Result<bool, Error> {
        blocking!(self, |ex, dl| ops::extend(
            ex,
            key,
            token,
            px_ms.max(1),
            tag_keys,
            dl
        ))
    }

    /// [`extend_blocking`](Self::extend_blocking) for async callers.
    pub(crate) async fn extend(
        &self,
        key: &[u8],
        token: &Token,
        px_ms: u64,
        tag_keys: &[Vec<u8>],
    ) -> Result<bool, Error> {
        awaiting!(self, |ex, dl| ops::extend(
            ex,
            key,
            token,
            px_ms.max(1),
            tag_keys,
            dl
        ))
    }

    /// Stores `value` unconditionally (a refresh), replacing a value or a lease (whose run then
    /// stores nothing).
    pub(crate) fn put_blocking(
        &self,
        key: &[u8],
        value: &[u8],
        px_ms: u64,
        tag_keys: &[Vec<u8>],
    ) -> Result<(), Error> {
        blocking!(self, |ex, dl| ops::put(
            ex,
            key,
            value,
            px_ms.max(1),
            tag_keys,
            dl
        ))
    }

    /// [`put_blocking`](Self::put_blocking) for async callers.
    pub(crate) async fn put(
        &self,
        key: &[u8],
        value: &[u8],
        px_ms: u64,
        tag_keys: &[Vec<u8>],
    ) -> Result<(), Error> {
        awaiting!(self, |ex, dl| ops::put(
            ex,
            key,
            value,
            px_ms.max(1),
            tag_keys,
            dl
        ))
    }

    /// Deletes `key`, value or lease (a run in progress then stores nothing): true if a value
    /// was removed.
    pub(crate) fn delete_blocking(&self, key: &[u8]) -> Result<bool, Error> {
        blocking!(self, |ex, dl| ops::delete(ex, key, dl))
    }

    /// [`delete_blocking`](Self::delete_blocking) for async callers.
    pub(crate) async fn delete(&self, key: &[u8]) -> Result<bool, Error> {
        awaiting!(self, |ex, dl| ops::delete(ex, key, dl))
    }

    /// Unlinks `keys` (any slots): how many existed. For replays.
    pub(crate) fn unlink_all_blocking(&self, keys: &[Vec<u8>]) -> Result<u64, Error> {
        let step = self.inner.op_timeout;
        blocking!(self, |ex, _dl| ops::unlink_all(ex, keys, step))
    }

    /// [`unlink_all_blocking`](Self::unlink_all_blocking) for async callers.
    pub(crate) async fn unlink_all(&self, keys: &[Vec<u8>]) -> Result<u64, Error> {
        let step = self.inner.op_timeout;
        awaiting!(self, |ex, _dl| ops::unlink_all(ex, keys, step))
    }

    /// Deletes every key of a cache (`scope` = its [`prefix`](super::CacheKeys::prefix)), or of
    /// the whole namespace (`scope` = [`KeySpace::root`]): leases included, so runs in progress
    /// store nothing. A cursor `SCAN` of each master and `UNLINK`s, a thousand keys per round
    /// trip, each round trip within the operation timeout. How many keys were removed.
    pub(crate) fn delete_all_blocking(&self, scope: &[u8]) -> Result<u64, Error> {
        let (step, whole) = (self.inner.op_timeout, scope == self.inner.keys.root());
        blocking!(self, |ex, _dl| ops::delete_all(ex, scope, whole, step))
    }

    /// [`delete_all_blocking`](Self::delete_all_blocking) for async callers.
    pub(crate) async fn delete_all(&self, scope: &[u8]) -> Result<u64, Error> {
        let (step, whole) = (self.inner.op_timeout, scope == self.inner.keys.root());
        awaiting!(self, |ex, _dl| ops::delete_all(ex, scope, whole, step))
    }

    /// Deletes every entry (and lease) labelled `tag`, in every cache, and unlists them. How
    /// many keys were removed. Interrupted, it leaves the rest listed for the next attempt.
    pub(crate) fn delete_tag_blocking(&self, tag: &str) -> Result<u64, Error> {
        let (set, aside) = (
            self.inner.keys.tag_key(tag),
            self.inner.keys.tag_aside_key(tag),
        );
        let step = self.inner.op_timeout;
        blocking!(self, |ex, _dl| ops::delete_tag(ex, &set, &aside, step))
    }

    /// [`delete_tag_blocking`](Self::delete_tag_blocking) for async callers.
    pub(crate) async fn delete_tag(&self, tag: &str) -> Result<u64, Error> {
        let (set, aside) = (
            self.inner.keys.tag_key(tag),
            self.inner.keys.tag_aside_key(tag),
        );
        let step = self.inner.op_timeout;
        awaiting!(self, |ex, _dl| ops::delete_tag(ex, &set, &aside, step))
    }

    /// `PING` (every master of a Cluster).
    pub(crate) fn ping_blocking(&self) -> Result<(), Error> {
        blocking!(self, |ex, dl| ops::ping(ex, dl))
    }

    /// [`ping_blocking`](Self::ping_blocking) for async callers.
    pub(crate) async fn ping(&self) -> Result<(), Error> {
        awaiting!(self, |ex, dl| ops::ping(ex, dl))
    }
}
