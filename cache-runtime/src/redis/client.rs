//! [`Client`]: one configuration's transports, its circuit breaker and its probe; the
//! transports as [`Exec`]s. The operations' entry points are in `calls.rs`.
//!
//! Sync forms never build or enter a runtime on the caller's thread (see `transport.rs`);
//! async forms only await channels answered by memocache's I/O thread, so any executor can
//! poll them, and their futures are `Send`.

use super::breaker::{Breaker, PROBE_FIRST, PROBE_MAX};

use super::config::{Config, Target};
use super::io::{Io, Setup};
use super::keys::KeySpace;
use super::pool::Pool;
use super::transport::{Exec, Req, run_ready};
use super::{Error, deletes};
use redis::{ConnectionInfo, Value};
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
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    /// The server (or the Cluster's first node), named in logs.
    pub(super) server: String,
    pub(super) keys: KeySpace,
    pub(super) op_timeout: Duration,
    pub(super) transport: Transport,
    pub(super) breaker: Breaker,
    pub(super) errors: AtomicU64,
    /// Where the invalidation bus subscribes (the server, or each node of a Cluster in
    /// turn), and how long it waits to connect.
    pub(super) nodes: Vec<ConnectionInfo>,
    pub(super) connect_timeout: Duration,
    /// How long a run holds its key's lease.
    pub(super) lease: Duration,
}

pub(super) enum Transport {
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
pub(super) struct PoolExec<'a>(pub(super) &'a Pool, pub(super) &'a Io);

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
pub(super) struct IoWait<'a>(pub(super) &'a Io);

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
pub(super) struct IoAsync<'a> {
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
            lease,
        } = config;
        let nodes = match &target {
            Target::Standalone(info) => vec![info.clone()],
            Target::Cluster(nodes) => nodes.clone(),
        };
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
        let mut client = Client::with(server, KeySpace::new(&prefix), operation_timeout, transport);
        // Not shared yet: `with` hands out no clone.
        if let Some(inner) = Arc::get_mut(&mut client.inner) {
            inner.nodes = nodes;
            inner.connect_timeout = connect_timeout;
            inner.lease = lease;
        }
        Ok(client)
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
            nodes: Vec::new(),
            connect_timeout: op_timeout,
            lease: Duration::from_secs(5),
        };
        Client {
            inner: Arc::new(inner),
        }
    }

    /// How long a run holds its key's lease.
    pub(crate) fn lease(&self) -> Duration {
        self.inner.lease
    }

    /// The key namespace (prefix) of this client.
    pub(crate) fn keys(&self) -> &KeySpace {
        &self.inner.keys
    }

    /// How many calls failed since the client was made (skipped calls not included).
    #[cfg_attr(not(test), allow(dead_code))] // the tests' checks
    pub(crate) fn errors(&self) -> u64 {
        self.inner.errors.load(Ordering::Relaxed)
    }

    /// Whether the breaker is open: calls skip Redis until a background `PING` answers.
    #[cfg_attr(not(test), allow(dead_code))] // the tests' checks
    pub(crate) fn is_skipping(&self) -> bool {
        self.inner.breaker.is_open()
    }

    pub(super) fn async_exec(&self) -> Result<IoAsync<'_>, Error> {
        match &self.inner.transport {
            Transport::Standalone { io, .. } => Ok(IoAsync { io, cluster: false }),
            Transport::Cluster { io } => Ok(IoAsync { io, cluster: true }),
            Transport::Disabled(e) => Err(e.clone()),
        }
    }

    pub(super) fn record<T>(&self, out: Result<T, Error>) -> Result<T, Error> {
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
                run_ready(deletes::ping(&PoolExec(pool, io), dl))?;
                if !io.started() {
                    return Ok(());
                }
                let dl = Instant::now() + self.inner.op_timeout;
                io.run_blocking(Req::Cmd(redis::cmd("PING")), dl).map(drop)
            }
            Transport::Cluster { io } => run_ready(deletes::ping(&IoWait(io), dl)),
            Transport::Disabled(e) => Err(e.clone()),
        }
    }
}
