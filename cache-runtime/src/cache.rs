//! A cache: the in-memory store, and the remote tier behind it if its backend has one. What
//! the calls and the handle talk to; the store itself knows nothing of remote tiers.

use crate::config::Config;
use crate::key::StoredKey;
use crate::key::{KeyRef, Owned};
use crate::policy::StoredValue;
use crate::remote::{BoxFuture, Local, Remote};
use crate::stats::CacheStats;
use crate::store::Store;
use std::any::{Any, TypeId};

/// One function's entries for keys `K` and values `V`.
pub(crate) struct Cache<K, V> {
    pub(crate) store: Store<K, V>,
    remote: Option<Box<dyn Remote<K, V>>>,
    /// The function's own key and value types (`TypeId::of::<(K, V)>()` of the call's types,
    /// which an erased store's `K` and `V` are not): what the handle tells its caches apart by.
    types: TypeId,
}

impl<K, V> Cache<K, V> {
    /// The remote tier, if any.
    #[inline]
    pub(crate) fn remote(&self) -> Option<&dyn Remote<K, V>> {
        match &self.remote {
            Some(r) => Some(&**r),
            None => None,
        }
    }
}

impl<K: StoredKey, V: StoredValue> Cache<K, V> {
    /// Hands the remote tier, if any, the local store it keeps coherent: once, when the
    /// cache has been made to live for the rest of the process.
    pub(crate) fn attach(&'static self) {
        if let Some(remote) = self.remote.as_deref() {
            remote.attach(self);
        }
    }
}

impl<K, V> Cache<K, V>
where
    K: StoredKey,
    V: StoredValue,
{
    /// A cache for the function types `types`; `copies`: whether threads may keep copies of
    /// its entries.
    pub(crate) fn new(
        config: &Config,
        copies: bool,
        remote: Option<Box<dyn Remote<K, V>>>,
        types: TypeId,
    ) -> Self {
        Cache {
            store: Store::new(config, copies),
            remote,
            types,
        }
    }

    /// Removes `key`'s entry, from the remote store first (see [`crate::remote`]); whether
    /// there was one.
    pub(crate) fn invalidate<L: KeyRef<Owned = K>>(&self, key: &L) -> bool {
        let remote = match &self.remote {
            Some(r) => r.invalidate(&key.to_owned_key()),
            None => false,
        };
        self.store.invalidate(key) | remote
    }
}

impl<K, V> Local<K> for Cache<K, V>
where
    K: StoredKey,
    V: StoredValue,
{
    fn drop_key(&self, key: &K) {
        self.store.invalidate(&Owned(key.clone()));
    }
    fn drop_all(&self) {
        self.store.clear();
    }
    fn drop_tag(&self, tag: &str) {
        self.store.invalidate_tag(tag);
    }
}

/// What the handle and the registry need of a cache, whatever its key and value types.
pub(crate) trait ErasedCache: Any + Send + Sync {
    fn len(&self) -> usize;
    fn clear(&self);
    /// The remote tier's part of an `async` clear, to await before [`ErasedCache::clear_local`]
    /// (`None`: no remote tier).
    fn clear_remote_async(&self) -> Option<BoxFuture<'_, ()>>;
    /// The local store's part of a clear.
    fn clear_local(&self);
    fn invalidate_tag(&self, tag: &str) -> usize;
    fn stats(&self) -> CacheStats;
    fn id(&self) -> usize;
    /// Where threads keep copies of its entries (see [`crate::copies`]), if they do.
    fn copies_id(&self) -> Option<usize>;
    /// The function's key and value types (see [`Cache`]).
    fn types(&self) -> TypeId;
}

impl<K, V> ErasedCache for Cache<K, V>
where
    K: StoredKey,
    V: StoredValue,
{
    fn len(&self) -> usize {
        self.store.len()
    }
    fn clear(&self) {
        if let Some(r) = &self.remote {
            r.clear();
        }
        self.store.clear();
    }
    fn clear_remote_async(&self) -> Option<BoxFuture<'_, ()>> {
        match &self.remote {
            Some(r) => Some(r.clear_async()),
            None => None,
        }
    }
    fn clear_local(&self) {
        self.store.clear();
    }
    fn invalidate_tag(&self, tag: &str) -> usize {
        self.store.invalidate_tag(tag)
    }
    fn stats(&self) -> CacheStats {
        let mut stats = self.store.stats();
        if let Some(r) = &self.remote {
            stats.errors += r.errors();
        }
        stats
    }
    fn id(&self) -> usize {
        self.store.id()
    }
    fn copies_id(&self) -> Option<usize> {
        self.store.copies_id()
    }
    fn types(&self) -> TypeId {
        self.types
    }
}
