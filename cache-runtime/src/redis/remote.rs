//! The Redis tier as the runtime's [`Remote`]: a miss's fetch (and its wait for another
//! process's run, and a stale entry's right to refresh), the fill under a lease, a refresh's
//! lease, the invalidations and their announcements, the local store's attachment.

use super::Error;
use super::bus::Waiter;
use super::codec::Token;
use super::stale::Refresh;
use super::tier::{Next, Tier, filled};
use crate::remote::{BoxFuture, Fetched, Filled, Lease, Local, Remote};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::atomic::Ordering;
use std::time::Instant;

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
                Next::Stale(value, seen) => {
                    let token = Token::new();
                    let got = self.client.refresh_lease_blocking(
                        &self.client.keys().refresh_key(&rkey),
                        &token,
                        self.lease_ms(),
                    );
                    return self.stale_found(&rkey, value, seen, &token, got);
                }
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
                    Next::Stale(value, seen) => {
                        let token = Token::new();
                        let rk = self.client.keys().refresh_key(&rkey);
                        let got = self
                            .client
                            .refresh_lease(&rk, &token, self.lease_ms())
                            .await;
                        return self.stale_found(&rkey, value, seen, &token, got);
                    }
                    Next::Wait => match (&waiter, seen) {
                        (Some(w), Some(seen)) => w.wait(seen).await,
                        _ => waiter = Some(self.bus.waiter(&rkey)),
                    },
                }
            }
        })
    }

    fn fill(&self, key: &K, value: &V, tags: &[String], lease: Lease) -> Filled {
        let (Some(rkey), Ok(bytes)) = (
            self.redis_key(key),
            self.codec.encode(value, &self.meta(tags)),
        ) else {
            self.failed();
            return Filled::Failed;
        };
        let tag_keys = self.tag_keys(tags);
        self.bus.unhold(&rkey, lease.0);
        let filled_ev = self.filled(&rkey);
        let notify = (self.bus.channel(), &filled_ev[..]);
        let value = (&bytes[..], self.px_ms());
        let token = Token::from_bytes(lease.0);
        let stored = match self.refreshing.take(&lease) {
            Some(stale) => {
                let stored =
                    self.client
                        .stale_fill_blocking(&rkey, &stale.seen, value, &tag_keys, notify);
                // Given back now, not left to expire: the next stale window may come sooner.
                let _ = self.client.release_blocking(&stale.refresh_key, &token);
                stored
            }
            None => self
                .client
                .fill_blocking(&rkey, &token, value.0, value.1, &tag_keys, notify),
        };
        filled(stored, || self.failed())
    }

    fn fill_async<'a>(
        &'a self,
        key: &'a K,
        value: &'a V,
        tags: &'a [String],
        lease: Lease,
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
            self.bus.unhold(&rkey, lease.0);
            let filled_ev = self.filled(&rkey);
            let notify = (self.bus.channel(), &filled_ev[..]);
            let value = (&bytes[..], self.px_ms());
            let token = Token::from_bytes(lease.0);
            let stored = match self.refreshing.take(&lease) {
                Some(stale) => {
                    let stored = self
                        .client
                        .stale_fill(&rkey, &stale.seen, value, &tag_keys, notify)
                        .await;
                    let _ = self.client.release(&stale.refresh_key, &token).await;
                    stored
                }
                None => {
                    self.client
                        .fill(&rkey, &token, value.0, value.1, &tag_keys, notify)
                        .await
                }
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
        if let Some(stale) = self.refreshing.take(&lease) {
            // A stale entry's refresh that stores nothing: the entry is not ours to touch.
            let token = Token::from_bytes(lease.0);
            self.client.release_detached(&stale.refresh_key, &token);
            return;
        }
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
        // Every cache: near copies to keep coherent, pending invalidations to replay.
        self.bus.register(self);
    }

    fn keeps_local(&self) -> bool {
        // Without `near` the local store keeps nothing anyway (capacity 0).
        self.near.is_none() || self.bus.healthy()
    }
}

impl<K, V> Tier<K, V>
where
    K: Serialize + Clone + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// What a stale entry `rkey` (its `value` and `seen` bytes) is for this caller: its
    /// refresh, if `got` says it took the right (`token`), else the stale value to serve.
    pub(super) fn stale_found(
        &self,
        rkey: &[u8],
        value: V,
        seen: Vec<u8>,
        token: &Token,
        got: Result<bool, Error>,
    ) -> Fetched<V> {
        match got {
            Ok(true) => {
                let refresh = Refresh {
                    refresh_key: self.client.keys().refresh_key(rkey),
                    seen,
                };
                let lease = Lease(token.bytes());
                self.refreshing.insert(&lease, refresh);
                Fetched::Stale {
                    value,
                    lease: Some(lease),
                }
            }
            Ok(false) => Fetched::Stale { value, lease: None },
            Err(_) => {
                self.failed();
                Fetched::Stale { value, lease: None }
            }
        }
    }
}
