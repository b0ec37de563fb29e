//! A Redis cache's near index: which entry keys this process may hold copies of, mapping an
//! entry key announced on the bus back to the store's key (what the tier then does with it
//! is in `coherence.rs`).
//!
//! The index is noted before Redis is read, so an invalidation heard while the read is on
//! the way finds the key, and dropping the key detaches the run in progress (which then keeps
//! no copy): a value read before another process's invalidation is never kept after hearing
//! it. The index is bounded (twice the near capacity); past the bound it starts over, and the
//! copies it forgets are dropped with it.

use crate::remote::Local;
use crate::sync::Mutex;
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

    pub(super) fn take(&self, rkey: &[u8]) -> Option<K> {
        self.keys.lock().remove(rkey)
    }

    pub(super) fn clear(&self) {
        self.keys.lock().clear();
    }
}
