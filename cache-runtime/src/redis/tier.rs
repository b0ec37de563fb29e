//! One cache's Redis tier: the [`Remote`] the runtime's calls ask on a miss, built on the
//! client's operations. It turns keys and values into Redis keys and envelopes, takes and
//! fills leases (waiting for another process's run of a key, see `fetch`), announces its
//! changes on the bus, keeps the invalidations Redis could not take for later, and counts this
//! cache's errors; every failure is a miss (the body runs) or a `false`, never a panic. Its
//! near copies' coherence (the `Near` side) is in `coherence.rs`.

use super::Error;
use super::bus::{self, Bus};
use super::client::{Client, Lookup};
use super::codec::{Codec, Meta, Token};
use super::keys::CacheKeys;
use super::near::NearIndex;
use super::pending::Pending;
use super::stale::Refreshing;
use crate::config::Config;
use crate::remote::{Fetched, Filled, Lease, Local};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The invalidations of tags that Redis could not take, for every cache: replayed before any
/// cache reads from Redis again.
pub(super) fn pending_tags() -> &'static Pending {
    static PENDING: OnceLock<Pending> = OnceLock::new();
    PENDING.get_or_init(Pending::default)
}

/// A cache's Redis tier (see the module's doc).
pub(crate) struct Tier<K: 'static, V> {
    pub(super) client: &'static Client,
    pub(super) bus: &'static Bus,
    pub(super) keys: CacheKeys,
    pub(super) codec: Codec,
    /// The values' `PX`: the `ttl` (plus the `stale` window).
    pub(super) ttl: Duration,
    pub(super) stale: Duration,
    /// This cache's invalidations that Redis could not take.
    pub(super) pending: Pending,
    pub(super) errors: AtomicU64,
    /// Whether a run waits for another process's run of the same key (`single_flight`).
    pub(super) waits: bool,
    /// With `near`: which entry keys this process may hold copies of, and the store they are
    /// in (set by `attach`).
    pub(super) near: Option<NearIndex<K>>,
    pub(super) local: OnceLock<&'static dyn Local<K>>,
    /// The stale entries this process refreshes, by lease token (see `stale.rs`).
    pub(super) refreshing: Refreshing,
    _types: PhantomData<fn(K) -> V>,
}

/// What a fill's answer means (see [`Filled`]); `failed` counts an error.
pub(super) fn filled(stored: Result<bool, Error>, failed: impl FnOnce()) -> Filled {
    match stored {
        Ok(true) => Filled::Stored,
        Ok(false) => Filled::Overtaken,
        Err(_) => {
            failed();
            Filled::Failed
        }
    }
}

/// What one lookup decided.
pub(super) enum Next<V> {
    Done(Fetched<V>),
    /// The value there did not decode: look again, taking the key over.
    Replace(Vec<u8>),
    /// Another process runs the body: wait for its value.
    Wait,
    /// A stale value (and its bytes): served, and refreshed by whoever gets the right to.
    Stale(V, Vec<u8>),
}

impl<K, V> Tier<K, V>
where
    K: Serialize + Clone + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// The tier of the cache `name`, with the attribute's settings (`config`: its `version`
    /// joins the values' fingerprint).
    pub(crate) fn new(name: &str, config: &Config) -> Self {
        let client = super::global();
        Tier {
            client,
            bus: bus::get(),
            keys: client.keys().cache(name),
            codec: Codec::new::<V>(config.version),
            ttl: config.ttl.unwrap_or(Duration::MAX),
            stale: config.stale.unwrap_or(Duration::ZERO),
            pending: Pending::default(),
            errors: AtomicU64::new(0),
            waits: config.single_flight,
            near: config.near.map(|_| NearIndex::new(config.capacity)),
            local: OnceLock::new(),
            refreshing: Refreshing::default(),
            _types: PhantomData,
        }
    }

    /// Counts a failed operation of this cache (the client logs the incident).
    pub(super) fn failed(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The Redis key of `key`, or `None` (counted) when it cannot be encoded.
    pub(super) fn redis_key(&self, key: &K) -> Option<Vec<u8>> {
        let encoded = self.keys.key(key).ok();
        if encoded.is_none() {
            self.failed();
        }
        encoded
    }

    pub(super) fn tag_keys(&self, tags: &[String]) -> Vec<Vec<u8>> {
        tags.iter().map(|t| self.client.keys().tag_key(t)).collect()
    }

    pub(super) fn px_ms(&self) -> u64 {
        u64::try_from((self.ttl + self.stale).as_millis()).unwrap_or(u64::MAX)
    }

    pub(super) fn lease_ms(&self) -> u64 {
        u64::try_from(self.client.lease().as_millis()).unwrap_or(u64::MAX)
    }

    /// How long a run waits for another process's run of its key before it runs the body
    /// itself (and stores nothing): ten leases. A holder that died is taken over sooner, when
    /// its lease runs out; this bounds the wait for a live holder whose body does not end.
    pub(super) fn wait_deadline(&self) -> Instant {
        Instant::now() + self.client.lease() * 10
    }

    pub(super) fn meta(&self, tags: &[String]) -> Meta {
        Meta {
            ttl: self.ttl,
            stale: self.stale,
            compute: Duration::ZERO,
            tags: tags.to_vec(),
            written_unix_ms: 0,
        }
    }

    /// What a lookup decided, once decoded. A lease taken is kept alive on the bus until the
    /// run fills or releases it.
    pub(super) fn next(
        &self,
        looked: Result<Lookup, Error>,
        token: &Token,
        rkey: &[u8],
        tag_keys: &[Vec<u8>],
        replacing: bool,
        deadline: Instant,
    ) -> Next<V> {
        let nothing = Next::Done(Fetched::Miss { lease: None });
        let Ok(looked) = looked else {
            self.failed();
            return nothing;
        };
        match looked {
            Lookup::Found { bytes, pttl_ms } => match self.codec.decode::<V>(&bytes) {
                Some(decoded) if decoded.is_fresh(pttl_ms) => Next::Done(Fetched::Hit {
                    lives: pttl_ms.map(|ms| Duration::from_millis(ms).saturating_sub(self.stale)),
                    value: decoded.value,
                }),
                // Past its ttl, in its stale window: served while one process refreshes it.
                Some(decoded) => Next::Stale(decoded.value, bytes),
                // A value of this type and version that does not decode (a field added
                // without a `version` change): a miss, and the fresh value takes its place.
                None if !replacing => Next::Replace(bytes),
                None => nothing,
            },
            Lookup::Leased => Next::Done(Fetched::Miss {
                lease: Some(self.held(rkey, token, tag_keys)),
            }),
            // Another process runs the body: wait for its value, up to a deadline; past it
            // (or without single-flight), run the body too and store nothing.
            Lookup::Busy { .. } if self.waits && Instant::now() < deadline => Next::Wait,
            Lookup::Busy { .. } => nothing,
        }
    }

    /// Where a fetch starts: nothing pending (else nothing is read), the entry key, and, for a
    /// near cache, the key noted as one this process may copy (before Redis is read, so that
    /// an invalidation heard meanwhile finds it).
    pub(super) fn begin(&self, key: &K) -> Option<Vec<u8>> {
        let rkey = self.redis_key(key)?;
        if let (Some(index), Some(local)) = (&self.near, self.local.get()) {
            index.note(&rkey, key, *local);
        }
        Some(rkey)
    }

    /// A lease taken: kept alive on the bus until the run fills or releases it.
    pub(super) fn held(&self, rkey: &[u8], token: &Token, tag_keys: &[Vec<u8>]) -> Lease {
        self.bus.hold(rkey, token.bytes(), tag_keys);
        Lease(token.bytes())
    }

    /// The end of a run that held `lease`: no longer extended.
    pub(super) fn unhold(&self, key: &K, lease: &Lease) -> Option<Vec<u8>> {
        let rkey = self.redis_key(key)?;
        self.bus.unhold(&rkey, lease.0);
        Some(rkey)
    }

    /// Whether this cache may read from Redis: nothing is pending, or replaying it worked
    /// (then every process drops its near copies: what was replayed was never announced).
    pub(super) fn replayed_blocking(&self) -> bool {
        let tags = pending_tags();
        if tags.is_empty() && self.pending.is_empty() {
            return true;
        }
        let ok = (tags.is_empty()
            || tags
                .replay_blocking(self.client, self.client.keys().root())
                .is_ok())
            && (self.pending.is_empty()
                || self
                    .pending
                    .replay_blocking(self.client, self.keys.prefix())
                    .is_ok());
        if ok {
            self.bus.publish_blocking(&self.bus.event(b'x', &[]));
        } else {
            self.failed();
        }
        ok
    }

    pub(super) async fn replayed(&self) -> bool {
        let tags = pending_tags();
        if tags.is_empty() && self.pending.is_empty() {
            return true;
        }
        let ok = (tags.is_empty()
            || tags
                .replay(self.client, self.client.keys().root())
                .await
                .is_ok())
            && (self.pending.is_empty()
                || self
                    .pending
                    .replay(self.client, self.keys.prefix())
                    .await
                    .is_ok());
        if ok {
            self.bus.publish(&self.bus.event(b'x', &[])).await;
        } else {
            self.failed();
        }
        ok
    }

    /// An invalidation Redis could not take: kept, to replay before the next read.
    pub(super) fn keep_pending(&self, key: Vec<u8>) {
        self.failed();
        self.pending.push_key(key);
    }

    /// The "filled" event of `rkey`, published by the fill itself: the waiters look again,
    /// and the other processes drop their near copies (older than the value filled: a
    /// refresh's).
    pub(super) fn filled(&self, rkey: &[u8]) -> Vec<u8> {
        self.bus.key_event_of(b'f', self.keys.prefix(), rkey)
    }
}
