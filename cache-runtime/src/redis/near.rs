//! A Redis cache's near copies: which entry keys this process may hold copies of (the index
//! that maps an entry key announced on the bus back to the store's key), and what the tier
//! does when the bus announces another process's change ([`Near`]).
//!
//! The index is noted before Redis is read, so an invalidation heard while the read is on
//! the way finds the key, and dropping the key detaches the run in progress (which then keeps
//! no copy): a value read before another process's invalidation is never kept after hearing
//! it. The index is bounded (twice the near capacity); past the bound it starts over, and the
//! copies it forgets are dropped with it.

use super::bus::Near;
use super::tier::Tier;
use crate::remote::Local;
use crate::sync::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// The entry keys this process may hold near copies of, and their store keys.
pub(crate) struct NearIndex<K> {
    keys: Mutex<HashMap<Vec<u8>, K>>,
    bound: usize,
}

impl<K: Clone> NearIndex<K> {
    /// An index for a near store of `capacity` entries (`None`: unbounded).
    pub(crate) fn new(capacity: Option<usize>) -> Self {
        NearIndex {
            keys: Mutex::new(HashMap::new()),
            bound: capacity.map_or(1 << 20, |c| c.saturating_mul(2).max(64)),
        }
    }

    /// Notes that `rkey` is `key`'s entry key, which `local` may copy.
    pub(crate) fn note(&self, rkey: &[u8], key: &K, local: &dyn Local<K>) {
        let mut keys = self.keys.lock();
        if keys.len() >= self.bound && !keys.contains_key(rkey) {
            keys.clear();
            drop(keys);
            // Forgotten keys could not be dropped when announced: drop their copies now.
            local.drop_all();
            keys = self.keys.lock();
        }
        keys.insert(rkey.to_vec(), key.clone());
    }

    fn take(&self, rkey: &[u8]) -> Option<K> {
        self.keys.lock().remove(rkey)
    }

    fn clear(&self) {
        self.keys.lock().clear();
    }
}

impl<K, V> Tier<K, V>
where
    K: Serialize + Clone + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// Announces a change this process made in Redis; a failure is counted (the other
    /// processes see a gap in this process's events at the next one, and drop their copies).
    pub(super) fn announce_blocking(&self, event: &[u8]) {
        if !self.bus.publish_blocking(event) {
            self.failed();
        }
    }

    /// The `async` form of [`Tier::announce_blocking`].
    pub(super) async fn announce(&self, event: &[u8]) {
        if !self.bus.publish(event).await {
            self.failed();
        }
    }
}

impl<K, V> Near for Tier<K, V>
where
    K: Serialize + Clone + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn scope(&self) -> &[u8] {
        self.keys.prefix()
    }

    fn on_key(&self, rkey: &[u8]) {
        let key = self.near.as_ref().and_then(|n| n.take(rkey));
        if let (Some(key), Some(local)) = (key, self.local.get()) {
            local.drop_key(&key);
        }
    }

    fn on_all(&self) {
        if let Some(n) = &self.near {
            n.clear();
        }
        if let Some(local) = self.local.get() {
            local.drop_all();
        }
    }

    fn on_tag(&self, tag: &str) {
        if let Some(local) = self.local.get() {
            local.drop_tag(tag);
        }
    }
}
