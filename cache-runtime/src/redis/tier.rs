//! One cache's Redis tier: the [`Remote`] the runtime's calls ask on a miss, built on the
//! client's operations. It turns keys and values into Redis keys and envelopes, takes and
//! fills leases, keeps the invalidations Redis could not take for later, and counts this
//! cache's errors; every failure is a miss (the body runs) or a `false`, never a panic.

use super::client::{Client, Lookup};
use super::codec::{Codec, Meta, Token};
use super::keys::CacheKeys;
use super::pending::Pending;
use crate::remote::{BoxFuture, Fetched, Lease, Remote};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long a lease holds a key for its run of the body: a holder that dies costs the other
/// processes this long without the key stored (they run the body themselves meanwhile).
const LEASE: Duration = Duration::from_secs(10);

/// The invalidations of tags that Redis could not take, for every cache: replayed before any
/// cache reads from Redis again.
pub(super) fn pending_tags() -> &'static Pending {
    static PENDING: OnceLock<Pending> = OnceLock::new();
    PENDING.get_or_init(Pending::default)
}

/// A cache's Redis tier (see the module's doc).
pub(crate) struct Tier<K, V> {
    client: &'static Client,
    keys: CacheKeys,
    codec: Codec,
    /// The values' `PX`: the `ttl` (plus the `stale` window).
    ttl: Duration,
    stale: Duration,
    /// This cache's invalidations that Redis could not take.
    pending: Pending,
    errors: AtomicU64,
    _types: PhantomData<fn(K) -> V>,
}

impl<K, V> Tier<K, V>
where
    K: Serialize + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// The tier of the cache `name`, whose values carry `version` in their fingerprint.
    pub(crate) fn new(name: &str, version: &str, ttl: Duration, stale: Duration) -> Self {
        let client = super::global();
        Tier {
            client,
            keys: client.keys().cache(name),
            codec: Codec::new::<V>(version),
            ttl,
            stale,
            pending: Pending::default(),
            errors: AtomicU64::new(0),
            _types: PhantomData,
        }
    }

    /// Counts a failed operation of this cache (the client logs the incident).
    fn failed(&self) {
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
        u64::try_from(LEASE.as_millis()).unwrap_or(u64::MAX)
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

    /// What a lookup found, once decoded; `Err` with the bytes that did not decode.
    fn found(&self, found: Lookup, token: &Token) -> Result<Fetched<V>, Vec<u8>> {
        Ok(match found {
            Lookup::Found { bytes, pttl_ms } => match self.codec.decode::<V>(&bytes) {
                Some(decoded) if decoded.is_fresh(pttl_ms) => Fetched::Hit {
                    lives: pttl_ms.map(|ms| Duration::from_millis(ms).saturating_sub(self.stale)),
                    value: decoded.value,
                },
                // Past its ttl, in its stale window: a miss until `stale` works with Redis.
                Some(_) => Fetched::Miss { lease: None },
                None => return Err(bytes),
            },
            Lookup::Leased => Fetched::Miss {
                lease: Some(Lease(token.bytes())),
            },
            // Another process runs the body: this one runs it too, and stores nothing.
            Lookup::Busy { .. } => Fetched::Miss { lease: None },
        })
    }

    /// Whether this cache may read from Redis: nothing is pending, or replaying it worked.
    fn replayed_blocking(&self) -> bool {
        let tags = pending_tags();
        let ok = (tags.is_empty()
            || tags
                .replay_blocking(self.client, self.client.keys().root())
                .is_ok())
            && (self.pending.is_empty()
                || self
                    .pending
                    .replay_blocking(self.client, self.keys.prefix())
                    .is_ok());
        if !ok {
            self.failed();
        }
        ok
    }

    async fn replayed(&self) -> bool {
        let tags = pending_tags();
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
        if !ok {
            self.failed();
        }
        ok
    }

    /// An invalidation Redis could not take: kept, to replay before the next read.
    fn keep_pending(&self, key: Vec<u8>) {
        self.failed();
        self.pending.push_key(key);
    }
}

impl<K, V> Remote<K, V> for Tier<K, V>
where
    K: Serialize + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn fetch(&self, key: &K, tags: &[String]) -> Fetched<V> {
        let nothing = Fetched::Miss { lease: None };
        if !self.replayed_blocking() {
            return nothing;
        }
        let Some(rkey) = self.redis_key(key) else {
            return nothing;
        };
        let token = Token::new();
        let tag_keys = self.tag_keys(tags);
        let looked =
            self.client
                .lookup_blocking(&rkey, &token, self.lease_ms(), &tag_keys, &self.codec);
        let bad = match looked.map(|l| self.found(l, &token)) {
            Ok(Ok(fetched)) => return fetched,
            Ok(Err(bad)) => bad,
            Err(_) => {
                self.failed();
                return nothing;
            }
        };
        // A value of this type and version that does not decode (a field added without a
        // `version` change): a miss, and the fresh value takes its place.
        match self.client.lookup_replacing_blocking(
            &rkey,
            &token,
            self.lease_ms(),
            &tag_keys,
            &self.codec,
            &bad,
        ) {
            Ok(found) => self.found(found, &token).unwrap_or(nothing),
            Err(_) => {
                self.failed();
                nothing
            }
        }
    }

    fn fetch_async<'a>(&'a self, key: &'a K, tags: &'a [String]) -> BoxFuture<'a, Fetched<V>> {
        Box::pin(async move {
            let nothing = Fetched::Miss { lease: None };
            if !self.replayed().await {
                return nothing;
            }
            let Some(rkey) = self.redis_key(key) else {
                return nothing;
            };
            let token = Token::new();
            let tag_keys = self.tag_keys(tags);
            let looked = self
                .client
                .lookup(&rkey, &token, self.lease_ms(), &tag_keys, &self.codec)
                .await;
            let bad = match looked.map(|l| self.found(l, &token)) {
                Ok(Ok(fetched)) => return fetched,
                Ok(Err(bad)) => bad,
                Err(_) => {
                    self.failed();
                    return nothing;
                }
            };
            match self
                .client
                .lookup_replacing(&rkey, &token, self.lease_ms(), &tag_keys, &self.codec, &bad)
                .await
            {
                Ok(found) => self.found(found, &token).unwrap_or(nothing),
                Err(_) => {
                    self.failed();
                    nothing
                }
            }
        })
    }

    fn fill(&self, key: &K, value: &V, tags: &[String], lease: Option<Lease>) -> bool {
        let (Some(rkey), Ok(bytes)) = (
            self.redis_key(key),
            self.codec.encode(value, &self.meta(tags)),
        ) else {
            self.failed();
            return false;
        };
        let tag_keys = self.tag_keys(tags);
        let stored = match lease {
            Some(Lease(token)) => self.client.fill_blocking(
                &rkey,
                &Token::from_bytes(token),
                &bytes,
                self.px_ms(),
                &tag_keys,
            ),
            None => self
                .client
                .put_blocking(&rkey, &bytes, self.px_ms(), &tag_keys)
                .map(|()| true),
        };
        stored.unwrap_or_else(|_| {
            self.failed();
            false
        })
    }

    fn fill_async<'a>(
        &'a self,
        key: &'a K,
        value: &'a V,
        tags: &'a [String],
        lease: Option<Lease>,
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let (Some(rkey), Ok(bytes)) = (
                self.redis_key(key),
                self.codec.encode(value, &self.meta(tags)),
            ) else {
                self.failed();
                return false;
            };
            let tag_keys = self.tag_keys(tags);
            let stored = match lease {
                Some(Lease(token)) => {
                    self.client
                        .fill(
                            &rkey,
                            &Token::from_bytes(token),
                            &bytes,
                            self.px_ms(),
                            &tag_keys,
                        )
                        .await
                }
                None => self
                    .client
                    .put(&rkey, &bytes, self.px_ms(), &tag_keys)
                    .await
                    .map(|()| true),
            };
            stored.unwrap_or_else(|_| {
                self.failed();
                false
            })
        })
    }

    fn release(&self, key: &K, lease: Lease) {
        if let Some(rkey) = self.redis_key(key) {
            self.client
                .release_detached(&rkey, &Token::from_bytes(lease.0));
        }
    }

    fn invalidate(&self, key: &K) -> bool {
        let Some(rkey) = self.redis_key(key) else {
            return false;
        };
        match self.client.delete_blocking(&rkey) {
            Ok(removed) => removed,
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
                Ok(removed) => removed,
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
        }
    }

    fn clear_async(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if self.client.delete_all(self.keys.prefix()).await.is_err() {
                self.failed();
                self.pending.push_all();
            }
        })
    }

    fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
}
