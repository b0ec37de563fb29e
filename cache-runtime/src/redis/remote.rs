//! The Redis tier as the runtime's [`Remote`]: a miss's fetch (and its wait for another
//! process's run, and a stale entry's right to refresh), the fill under a lease, a refresh's
//! lease, the invalidations and their announcements, the local store's attachment.

use super::Error;
use super::bus::Waiter;
use super::client::Lookup;
use super::codec::Token;
use super::stale::Refresh;
use super::tier::{Next, Tier, filled};
use crate::remote::{BoxFuture, Fetched, Filled, Lease, Local, Remote};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl<K, V> Remote<K, V> for Tier<K, V>
where
    K: Serialize + Clone + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn fetch(&self, key: &K, tags: &[String]) -> Fetched<V> {
        if !self.replayed_blocking() {
            return Fetched::Miss { lease: None };
        }
        let Some(mut f) = self.fetching(key, tags) else {
            return Fetched::Miss { lease: None };
        };
        loop {
            let (lease, codec, l) = (self.lease_ms(), &self.codec, f.look());
            let looked = match &l.bad {
                None => self
                    .client
                    .lookup_blocking(&l.rkey, &l.token, lease, &l.tag_keys, codec),
                Some(b) => self.client.lookup_replacing_blocking(
                    &l.rkey,
                    &l.token,
                    lease,
                    &l.tag_keys,
                    codec,
                    b,
                ),
            };
            match self.step(&mut f, looked) {
                Step::Done(fetched) => return fetched,
                Step::Look => {}
                Step::Wait(w, seen, left) => w.wait_blocking(seen, left),
                Step::Refresh(stale) => {
                    let got = self.client.refresh_lease_blocking(
                        &stale.refresh_key,
                        &stale.token,
                        self.lease_ms(),
                    );
                    return self.stale_found(stale, got);
                }
            }
        }
    }

    fn fetch_async<'a>(&'a self, key: &'a K, tags: &'a [String]) -> BoxFuture<'a, Fetched<V>> {
        Box::pin(async move {
            if !self.replayed().await {
                return Fetched::Miss { lease: None };
            }
            let Some(mut f) = self.fetching(key, tags) else {
                return Fetched::Miss { lease: None };
            };
            loop {
                let (lease, codec, l) = (self.lease_ms(), &self.codec, f.look());
                let looked = match &l.bad {
                    None => {
                        self.client
                            .lookup(&l.rkey, &l.token, lease, &l.tag_keys, codec)
                            .await
                    }
                    Some(b) => {
                        self.client
                            .lookup_replacing(&l.rkey, &l.token, lease, &l.tag_keys, codec, b)
                            .await
                    }
                };
                match self.step(&mut f, looked) {
                    Step::Done(fetched) => return fetched,
                    Step::Look => {}
                    Step::Wait(w, seen, _) => w.wait(seen).await,
                    Step::Refresh(stale) => {
                        let got = self
                            .client
                            .refresh_lease(&stale.refresh_key, &stale.token, self.lease_ms())
                            .await;
                        return self.stale_found(stale, got);
                    }
                }
            }
        })
    }

    fn fill(&self, key: &K, value: &V, tags: &[String], lease: Lease) -> Filled {
        let Some(f) = self.filling(key, value, tags, lease) else {
            return Filled::Failed;
        };
        let stored = match &f.stale {
            Some(stale) => {
                let stored = self.client.stale_fill_blocking(
                    &f.rkey,
                    &stale.seen,
                    f.value(),
                    &f.tag_keys,
                    f.notify(),
                );
                // Given back now, not left to expire: the next stale window may come sooner.
                let _ = self.client.release_blocking(&stale.refresh_key, &f.token);
                stored
            }
            None => self.client.fill_blocking(
                &f.rkey,
                &f.token,
                &f.bytes,
                f.px_ms,
                &f.tag_keys,
                f.notify(),
            ),
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
            let Some(f) = self.filling(key, value, tags, lease) else {
                return Filled::Failed;
            };
            let stored = match &f.stale {
                Some(stale) => {
                    let stored = self
                        .client
                        .stale_fill(&f.rkey, &stale.seen, f.value(), &f.tag_keys, f.notify())
                        .await;
                    let _ = self.client.release(&stale.refresh_key, &f.token).await;
                    stored
                }
                None => {
                    let (bytes, px) = f.value();
                    self.client
                        .fill(&f.rkey, &f.token, bytes, px, &f.tag_keys, f.notify())
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

/// A fetch in progress: what its lookups carry from one round trip to the next.
struct Fetch {
    rkey: Vec<u8>,
    tag_keys: Vec<Vec<u8>>,
    /// Past this, a run waits no longer for another process's run of the key.
    deadline: Instant,
    /// Listening for the key's "filled" event, once another process was found running it.
    waiter: Option<Waiter>,
    /// What the waiter had seen when the lookup in flight was sent.
    seen: Option<u64>,
    /// The bytes there that did not decode: the next lookup takes the key over from them.
    bad: Option<Vec<u8>>,
    /// The lease a lookup takes if the key is free. One for all the fetch's lookups: the
    /// lookup that takes it (or fails, and may have taken it) is the fetch's last.
    token: Token,
}

impl Fetch {
    /// Notes what the waiter has seen before the next lookup is sent; that lookup's parts.
    fn look(&mut self) -> &Fetch {
        self.seen = self.waiter.as_ref().map(Waiter::seen);
        self
    }
}

/// What a fetch does after a lookup, the same for the sync and async forms.
enum Step<'f, V> {
    Done(Fetched<V>),
    /// Look again at once.
    Look,
    /// Wait for the key's "filled" event after `seen` (or a tick; a sync wait at most the
    /// time left before the deadline), then look again.
    Wait(&'f Waiter, u64, Duration),
    /// A stale value: take the right to refresh it, then serve it (see `stale_found`).
    Refresh(StaleFound<V>),
}

/// A stale value found, and the right to refresh it that this caller asks for.
struct StaleFound<V> {
    value: V,
    /// The entry's bytes: the refresh stores its value only over them.
    seen: Vec<u8>,
    refresh_key: Vec<u8>,
    token: Token,
}

/// What a fill sends, prepared the same for the sync and async forms.
struct Fill<'a> {
    rkey: Vec<u8>,
    bytes: Vec<u8>,
    px_ms: u64,
    tag_keys: Vec<Vec<u8>>,
    /// The bus's channel, and the "filled" event the fill publishes there.
    channel: &'a [u8],
    event: Vec<u8>,
    /// The run's lease.
    token: Token,
    /// A stale entry's refresh: stored only over the bytes it saw, then its right given back.
    stale: Option<Refresh>,
}

impl Fill<'_> {
    fn value(&self) -> (&[u8], u64) {
        (&self.bytes, self.px_ms)
    }

    fn notify(&self) -> (&[u8], &[u8]) {
        (self.channel, &self.event)
    }
}

impl<K, V> Tier<K, V>
where
    K: Serialize + Clone + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// Where a fetch of `key` starts (see `begin`), or `None`: a miss.
    fn fetching(&self, key: &K, tags: &[String]) -> Option<Fetch> {
        Some(Fetch {
            rkey: self.begin(key)?,
            tag_keys: self.tag_keys(tags),
            deadline: self.wait_deadline(),
            waiter: None,
            seen: None,
            bad: None,
            token: Token::new(),
        })
    }

    /// What `f` does after its lookup answered `looked`.
    fn step<'f>(&self, f: &'f mut Fetch, looked: Result<Lookup, Error>) -> Step<'f, V> {
        let next = self.next(
            looked,
            &f.token,
            &f.rkey,
            &f.tag_keys,
            f.bad.is_some(),
            f.deadline,
        );
        match next {
            Next::Done(fetched) => Step::Done(fetched),
            Next::Replace(bytes) => {
                f.bad = Some(bytes);
                Step::Look
            }
            Next::Stale(value, seen) => Step::Refresh(StaleFound {
                refresh_key: self.client.keys().refresh_key(&f.rkey),
                value,
                seen,
                token: Token::new(),
            }),
            // Listening first, then looking again: a "filled" is not missed.
            Next::Wait if f.waiter.is_none() || f.seen.is_none() => {
                f.waiter = Some(self.bus.waiter(&f.rkey));
                Step::Look
            }
            Next::Wait => match (&f.waiter, f.seen) {
                (Some(w), Some(seen)) => {
                    let left = f.deadline.saturating_duration_since(Instant::now());
                    Step::Wait(w, seen, left)
                }
                _ => Step::Look,
            },
        }
    }

    /// What a fill of `key` with `value` under `lease` sends, or `None` (counted) when the key
    /// or the value cannot be encoded. The lease is no longer extended from here on.
    fn filling(&self, key: &K, value: &V, tags: &[String], lease: Lease) -> Option<Fill<'_>> {
        let (Some(rkey), Ok(bytes)) = (
            self.redis_key(key),
            self.codec.encode(value, &self.meta(tags)),
        ) else {
            self.failed();
            return None;
        };
        let tag_keys = self.tag_keys(tags);
        self.bus.unhold(&rkey, lease.0);
        Some(Fill {
            event: self.filled(&rkey),
            channel: self.bus.channel(),
            px_ms: self.px_ms(),
            token: Token::from_bytes(lease.0),
            stale: self.refreshing.take(&lease),
            rkey,
            bytes,
            tag_keys,
        })
    }

    /// What the stale value `found` is for this caller: its refresh, if `got` says it took
    /// the right, else the stale value to serve.
    fn stale_found(&self, found: StaleFound<V>, got: Result<bool, Error>) -> Fetched<V> {
        let StaleFound {
            value,
            seen,
            refresh_key,
            token,
        } = found;
        match got {
            Ok(true) => {
                let lease = Lease(token.bytes());
                self.refreshing
                    .insert(&lease, Refresh { refresh_key, seen });
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
