//! One cache's Redis tier: the [`Remote`] the runtime's calls ask on a miss, built on the
//! client's operations. It turns keys and values into Redis keys and envelopes, takes and
//! fills leases (waiting for another process's run of a key, see `fetch`), announces its
//! changes on the bus, keeps the invalidations Redis could not take for later, and counts this
//! cache's errors; every failure is a miss (the body runs) or a `false`, never a panic. Its
//! near copies' coherence (the `Near` side) is in `coherence.rs`.

use super::Error;
use super::bus::{self, Bus, Waiter};
use super::client::{Client, Lookup};
use super::codec::{Codec, Meta, Token};
use super::keys::CacheKeys;
use super::near::NearIndex;
use super::pending::Pending;
use crate::config::Config;
use crate::remote::{BoxFuture, Fetched, Filled, Lease, Local, Remote};
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
    client: &'static Client,
    pub(super) bus: &'static Bus,
    pub(super) keys: CacheKeys,
    codec: Codec,
    /// The values' `PX`: the `ttl` (plus the `stale` window).
    ttl: Duration,
    stale: Duration,
    /// This cache's invalidations that Redis could not take.
    pending: Pending,
    errors: AtomicU64,
    /// Whether a run waits for another process's run of the same key (`single_flight`).
    waits: bool,
    /// With `near`: which entry keys this process may hold copies of, and the store they are
    /// in (set by `attach`).
    pub(super) near: Option<NearIndex<K>>,
    pub(super) local: OnceLock<&'static dyn Local<K>>,
    _types: PhantomData<fn(K) -> V>,
}

/// What a fill's answer means (see [`Filled`]); `failed` counts an error.
fn filled(stored: Result<bool, Error>, failed: impl FnOnce()) -> Filled {
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
enum Next<V> {
    Done(Fetched<V>),
    /// The value there did not decode: look again, taking the key over.
    Replace(Vec<u8>),
    /// Another process runs the body: wait for its value.
    Wait,
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
            _types: PhantomData,
        }
    }

    /// Counts a failed operation of this cache (the client logs the incident).
    pub(super) fn failed(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The Redis key of `key`, or `None` (counted) when it cannot be encoded.
    fn redis_key(&self, key: &K) -> Option<Vec<u8>> {
        let encoded = self.keys.key(key).ok();
        if encoded.is_none() {
            self.failed();
        }
        encoded
    }

    fn tag_keys(&self, tags: &[String]) -> Vec<Vec<u8>> {
        tags.iter().map(|t| self.client.keys().tag_key(t)).collect()
    }

    fn px_ms(&self) -> u64 {
        u64::try_from((self.ttl + self.stale).as_millis()).unwrap_or(u64::MAX)
    }

    fn lease_ms(&self) -> u64 {
        u64::try_from(self.client.lease().as_millis()).unwrap_or(u64::MAX)
    }

    /// How long a run waits for another process's run of its key before it runs the body
    /// itself (and stores nothing): ten leases. A holder that died is taken over sooner, when
    /// its lease runs out; this bounds the wait for a live holder whose body does not end.
    fn wait_deadline(&self) -> Instant {
        Instant::now() + self.client.lease() * 10
    }

    fn meta(&self, tags: &[String]) -> Meta {
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
    fn next(
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
                // Past its ttl, in its stale window: a miss until `stale` works with Redis.
                Some(_) => nothing,
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
    fn begin(&self, key: &K) -> Option<Vec<u8>> {
        let rkey = self.redis_key(key)?;
        if let (Some(index), Some(local)) = (&self.near, self.local.get()) {
            index.note(&rkey, key, *local);
        }
        Some(rkey)
    }

    /// A lease taken: kept alive on the bus until the run fills or releases it.
    fn held(&self, rkey: &[u8], token: &Token, tag_keys: &[Vec<u8>]) -> Lease {
        self.bus.hold(rkey, token.bytes(), tag_keys);
        Lease(token.bytes())
    }

    /// The end of a run that held `lease`: no longer extended.
    fn unhold(&self, key: &K, lease: &Lease) -> Option<Vec<u8>> {
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
    fn keep_pending(&self, key: Vec<u8>) {
        self.failed();
        self.pending.push_key(key);
    }

    /// The "filled" event of `rkey`, published by the fill itself: the waiters look again,
    /// and the other processes drop their near copies (older than the value filled: a
    /// refresh's).
    fn filled(&self, rkey: &[u8]) -> Vec<u8> {
        self.bus.key_event_of(b'f', self.keys.prefix(), rkey)
    }
}

impl<K, V> Remote<K, V> for Tier<K, V>
where
    K: Serialize + Clone + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn fetch(&self, key: &K, tags: &[String]) -> Fetched<V> {
        let nothing = Fetched::Miss { lease: None };
        if !self.replayed_blocking() {
            return nothing;
        }
        let Some(rkey) = self.begin(key) else {
            return nothing;
        };
        let tag_keys = self.tag_keys(tags);
        let deadline = self.wait_deadline();
        let (mut waiter, mut bad): (Option<Waiter>, Option<Vec<u8>>) = (None, None);
        loop {
            let seen = waiter.as_ref().map(Waiter::seen);
            let token = Token::new();
            let (lease, codec) = (self.lease_ms(), &self.codec);
            let looked = match &bad {
                None => self
                    .client
                    .lookup_blocking(&rkey, &token, lease, &tag_keys, codec),
                Some(b) => self
                    .client
                    .lookup_replacing_blocking(&rkey, &token, lease, &tag_keys, codec, b),
            };
            match self.next(looked, &token, &rkey, &tag_keys, bad.is_some(), deadline) {
                Next::Done(fetched) => return fetched,
                Next::Replace(b) => bad = Some(b),
                Next::Wait => match (&waiter, seen) {
                    (Some(w), Some(seen)) => {
                        w.wait_blocking(seen, deadline.saturating_duration_since(Instant::now()));
                    }
                    // Listening first, then looking again: a "filled" is not missed.
                    _ => waiter = Some(self.bus.waiter(&rkey)),
                },
            }
        }
    }

    fn fetch_async<'a>(&'a self, key: &'a K, tags: &'a [String]) -> BoxFuture<'a, Fetched<V>> {
        Box::pin(async move {
            let nothing = Fetched::Miss { lease: None };
            if !self.replayed().await {
                return nothing;
            }
            let Some(rkey) = self.begin(key) else {
                return nothing;
            };
            let tag_keys = self.tag_keys(tags);
            let deadline = self.wait_deadline();
            let (mut waiter, mut bad): (Option<Waiter>, Option<Vec<u8>>) = (None, None);
            loop {
                let seen = waiter.as_ref().map(Waiter::seen);
                let token = Token::new();
                let (lease, codec) = (self.lease_ms(), &self.codec);
                let looked = match &bad {
                    None => {
                        self.client
                            .lookup(&rkey, &token, lease, &tag_keys, codec)
                            .await
                    }
                    Some(b) => {
                        self.client
                            .lookup_replacing(&rkey, &token, lease, &tag_keys, codec, b)
                            .await
                    }
                };
                match self.next(looked, &token, &rkey, &tag_keys, bad.is_some(), deadline) {
                    Next::Done(fetched) => return fetched,
                    Next::Replace(b) => bad = Some(b),
                    Next::Wait => match (&waiter, seen) {
                        (Some(w), Some(seen)) => w.wait(seen).await,
                        _ => waiter = Some(self.bus.waiter(&rkey)),
                    },
                }
            }
        })
    }

    fn fill(&self, key: &K, value: &V, tags: &[String], lease: Option<Lease>) -> Filled {
        let (Some(rkey), Ok(bytes)) = (
            self.redis_key(key),
            self.codec.encode(value, &self.meta(tags)),
        ) else {
            self.failed();
            return Filled::Failed;
        };
        let tag_keys = self.tag_keys(tags);
        let stored = match &lease {
            Some(lease) => {
                self.bus.unhold(&rkey, lease.0);
                let filled = self.filled(&rkey);
                self.client.fill_blocking(
                    &rkey,
                    &Token::from_bytes(lease.0),
                    &bytes,
                    self.px_ms(),
                    &tag_keys,
                    (self.bus.channel(), &filled),
                )
            }
            // A refresh: the other processes' near copies of the old value go.
            None => self
                .client
                .put_blocking(&rkey, &bytes, self.px_ms(), &tag_keys)
                .map(|()| {
                    self.announce_blocking(&self.bus.key_event(self.keys.prefix(), &rkey));
                    true
                }),
        };
        filled(stored, || self.failed())
    }

    fn fill_async<'a>(
        &'a self,
        key: &'a K,
        value: &'a V,
        tags: &'a [String],
        lease: Option<Lease>,
    ) -> BoxFuture<'a, Filled> {
        Box::pin(async move {
            let (Some(rkey), Ok(bytes)) = (
                self.redis_key(key),
                self.codec.encode(value, &self.meta(tags)),
            ) else {
                self.failed();
                return Filled::Failed;
            };
            let tag_keys = self.tag_keys(tags);
            let stored = match &lease {
                Some(lease) => {
                    self.bus.unhold(&rkey, lease.0);
                    let filled = self.filled(&rkey);
                    let token = Token::from_bytes(lease.0);
                    let notify = (self.bus.channel(), &filled[..]);
                    self.client
                        .fill(&rkey, &token, &bytes, self.px_ms(), &tag_keys, notify)
                        .await
                }
                None => match self
                    .client
                    .put(&rkey, &bytes, self.px_ms(), &tag_keys)
                    .await
                {
                    Ok(()) => {
                        let ev = self.bus.key_event(self.keys.prefix(), &rkey);
                        self.announce(&ev).await;
                        Ok(true)
                    }
                    Err(e) => Err(e),
                },
            };
            filled(stored, || self.failed())
        })
    }

    fn take(&self, key: &K, tags: &[String]) -> Option<Lease> {
        let rkey = self.redis_key(key)?;
        let (token, tag_keys) = (Token::new(), self.tag_keys(tags));
        match self
            .client
            .take_blocking(&rkey, &token, self.lease_ms(), &tag_keys)
        {
            Ok(()) => Some(self.held(&rkey, &token, &tag_keys)),
            Err(_) => {
                self.failed();
                None
            }
        }
    }

    fn take_async<'a>(&'a self, key: &'a K, tags: &'a [String]) -> BoxFuture<'a, Option<Lease>> {
        Box::pin(async move {
            let rkey = self.redis_key(key)?;
            let (token, tag_keys) = (Token::new(), self.tag_keys(tags));
            match self
                .client
                .take(&rkey, &token, self.lease_ms(), &tag_keys)
                .await
            {
                Ok(()) => Some(self.held(&rkey, &token, &tag_keys)),
                Err(_) => {
                    self.failed();
                    None
                }
            }
        })
    }

    fn release(&self, key: &K, lease: Lease) {
        if let Some(rkey) = self.unhold(key, &lease) {
            self.client
                .release_detached(&rkey, &Token::from_bytes(lease.0));
        }
    }

    fn invalidate(&self, key: &K) -> bool {
        let Some(rkey) = self.redis_key(key) else {
            return false;
        };
        match self.client.delete_blocking(&rkey) {
            Ok(removed) => {
                self.announce_blocking(&self.bus.key_event(self.keys.prefix(), &rkey));
                removed
            }
            Err(_) => {
                self.keep_pending(rkey);
                false
            }
        }
    }

    fn invalidate_async<'a>(&'a self, key: &'a K) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let Some(rkey) = self.redis_key(key) else {
                return false;
            };
            match self.client.delete(&rkey).await {
                Ok(removed) => {
                    let ev = self.bus.key_event(self.keys.prefix(), &rkey);
                    self.announce(&ev).await;
                    removed
                }
                Err(_) => {
                    self.keep_pending(rkey);
                    false
                }
            }
        })
    }

    fn clear(&self) {
        if self.client.delete_all_blocking(self.keys.prefix()).is_err() {
            self.failed();
            self.pending.push_all();
        } else {
            self.announce_blocking(&self.bus.event(b'a', &[self.keys.prefix()]));
        }
    }

    fn clear_async(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if self.client.delete_all(self.keys.prefix()).await.is_err() {
                self.failed();
                self.pending.push_all();
            } else {
                let ev = self.bus.event(b'a', &[self.keys.prefix()]);
                self.announce(&ev).await;
            }
        })
    }

    fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn attach(&'static self, local: &'static dyn Local<K>) {
        let _ = self.local.set(local);
        if self.near.is_some() {
            self.bus.register(self);
        }
    }

    fn keeps_local(&self) -> bool {
        self.near.is_some() && self.bus.healthy()
    }
}
