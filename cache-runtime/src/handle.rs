//! The cache handle behind each cached function, and the process-wide registry of them.

use crate::config::Config;
use crate::ongoing::{self, Scope};
use crate::stats::CacheStats;
use crate::store::Store;
use std::any::Any;
use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock, PoisonError};

/// What the handle and the registry need of a store, whatever its key and value types.
pub(crate) trait ErasedStore: Any + Send + Sync {
    fn len(&self) -> usize;
    fn clear(&self);
    fn invalidate_tag(&self, tag: &str) -> usize;
    fn stats(&self) -> CacheStats;
    fn id(&self) -> usize;
}

impl<K, V> ErasedStore for Store<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn len(&self) -> usize {
        Store::len(self)
    }
    fn clear(&self) {
        Store::clear(self);
    }
    fn invalidate_tag(&self, tag: &str) -> usize {
        Store::invalidate_tag(self, tag)
    }
    fn stats(&self) -> CacheStats {
        Store::stats(self)
    }
    fn id(&self) -> usize {
        Store::id(self)
    }
}

/// The handle of one cached function's cache: its name, size and statistics.
///
/// Each `#[cached] fn f` has one, returned by the generated `f_cache()`. The store behind it
/// is created on the first call of `f` (the key type is only known there), and the handle
/// joins [`caches()`] then.
///
/// ```
/// use memocache::cached;
///
/// #[cached]
/// fn square(n: u64) -> u64 {
///     n * n
/// }
///
/// square(3);
/// square(3);
/// let cache = square_cache();
/// assert!(cache.name().ends_with("::square"));
/// assert_eq!(cache.len(), 1);
/// assert_eq!((cache.stats().hits, cache.stats().misses), (1, 1));
/// cache.clear();
/// assert!(cache.is_empty());
/// ```
pub struct CacheHandle {
    name: &'static str,
    /// The store, once the function was first called; `None` under `MEMOCACHE_DISABLE`.
    primary: OnceLock<Option<&'static dyn ErasedStore>>,
    /// Stores of other key or value types: the `Self` type of a function in an `impl` block
    /// has a handle of its own, but a generic trait's parameters, say, do not.
    others: Mutex<Vec<&'static dyn ErasedStore>>,
    /// The primary store's place in each thread's fronts (`usize::MAX`: it has none).
    front: AtomicUsize,
    errors: AtomicU64,
}

/// Every handle whose store exists, in the order they were first used.
static REGISTRY: Mutex<Vec<&'static CacheHandle>> = Mutex::new(Vec::new());

/// `MEMOCACHE_DISABLE`, read once: when the first store is created.
static DISABLED: LazyLock<bool> = LazyLock::new(|| {
    std::env::var("MEMOCACHE_DISABLE").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
});

impl CacheHandle {
    pub(crate) const fn new(name: &'static str) -> Self {
        CacheHandle {
            name,
            primary: OnceLock::new(),
            others: Mutex::new(Vec::new()),
            front: AtomicUsize::new(usize::MAX),
            errors: AtomicU64::new(0),
        }
    }

    /// The cache's name: the `name` option, else the function's path (`<Self type>::f` for
    /// a function in an `impl` block or a trait).
    #[must_use]
    pub fn name(&self) -> &str {
        self.name
    }

    /// How many entries the cache holds (expired ones not yet purged included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.each_store(ErasedStore::len).sum()
    }

    /// Whether the cache holds no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cache's counters.
    #[must_use]
    pub fn stats(&self) -> CacheStats {
        let mut total = CacheStats::default();
        for s in self.each_store(ErasedStore::stats) {
            total.add(&s);
        }
        total.errors += self.errors.load(Ordering::Relaxed);
        total
    }

    /// Removes every entry (counted as invalidations). Runs in progress do not store their
    /// results, which were computed before the clear.
    pub fn clear(&self) {
        let _ongoing = ongoing::begin(Scope::Stores(self.each_store(ErasedStore::id).collect()));
        for () in self.each_store(ErasedStore::clear) {}
    }

    pub(crate) fn invalidate_tag(&self, tag: &str) -> usize {
        self.each_store(|s| s.invalidate_tag(tag)).sum()
    }

    fn each_store<'a, T>(
        &'a self,
        f: impl Fn(&'static dyn ErasedStore) -> T + 'a,
    ) -> impl Iterator<Item = T> + 'a {
        let others = self
            .others
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let primary = self.primary.get().copied().flatten();
        primary.into_iter().chain(others).map(f)
    }

    /// The store for keys `K` and values `V`, created on first use with `config()`; `None`
    /// when caching is disabled.
    #[inline]
    pub(crate) fn store<K, V>(&'static self, config: fn() -> Config) -> Option<&'static Store<K, V>>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        match self.primary.get() {
            Some(Some(s)) => Some(typed(*s).unwrap_or_else(|| self.other(config))),
            Some(None) => None,
            None => self.init(config),
        }
    }

    /// Where the calling thread's copies of the primary store's entries are, if it keeps any.
    #[inline]
    pub(crate) fn front(&self) -> Option<usize> {
        let id = self.front.load(Ordering::Relaxed);
        (id != usize::MAX).then_some(id)
    }

    /// The store for `K` and `V` if the function was called already.
    pub(crate) fn existing_store<K: 'static, V: 'static>(
        &'static self,
    ) -> Option<&'static Store<K, V>> {
        let primary = (*self.primary.get()?)?;
        typed(primary).or_else(|| {
            let others = self.others.lock().unwrap_or_else(PoisonError::into_inner);
            others.iter().find_map(|s| typed(*s))
        })
    }

    #[cold]
    fn init<K, V>(&'static self, config: fn() -> Config) -> Option<&'static Store<K, V>>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        let primary = *self.primary.get_or_init(|| {
            if *DISABLED {
                return None;
            }
            let store: &'static Store<K, V> = Box::leak(Box::new(Store::new(&config(), true)));
            if let Some(id) = store.front_id() {
                self.front.store(id, Ordering::Release);
            }
            // Registered before the store is published: once a caller can store an entry,
            // `clear_all` and `invalidate_tag` find the cache (no run can begin before the
            // store is published, so one that finds it registered but not yet published has
            // nothing to drop).
            REGISTRY
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(self);
            let store: &'static dyn ErasedStore = store;
            Some(store)
        });
        // Another thread may have created the store for other types (a generic `impl`).
        Some(typed(primary?).unwrap_or_else(|| self.other(config)))
    }

    #[cold]
    fn other<K, V>(&'static self, config: fn() -> Config) -> &'static Store<K, V>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        let mut others = self.others.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = others.iter().find_map(|s| typed(*s)) {
            return s;
        }
        // Only the primary store's copies are looked for (`CacheHandle::front`).
        let store: &'static Store<K, V> = Box::leak(Box::new(Store::new(&config(), false)));
        others.push(store);
        store
    }
}

/// The store behind `s`, if it is the one for keys `K` and values `V`.
#[inline]
fn typed<K: 'static, V: 'static>(s: &'static dyn ErasedStore) -> Option<&'static Store<K, V>> {
    let any: &'static dyn Any = s;
    any.downcast_ref()
}

impl fmt::Debug for CacheHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheHandle")
            .field("name", &self.name())
            .field("len", &self.len())
            .field("stats", &self.stats())
            .finish()
    }
}

/// Every cache whose function has been called in this process.
///
/// ```
/// #[memocache::cached]
/// fn double(n: u32) -> u32 { n * 2 }
///
/// double(1);
/// assert!(memocache::caches().iter().any(|c| c.name().ends_with("::double")));
/// ```
#[must_use]
pub fn caches() -> Vec<&'static CacheHandle> {
    REGISTRY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Empties every cache in the process.
pub fn clear_all() {
    let _ongoing = ongoing::begin(Scope::All);
    for c in caches() {
        c.clear();
    }
}

/// Drops every entry labelled `tag` (by a `tags = [...]` option), in every cache; returns
/// how many entries were dropped.
///
/// ```
/// use memocache::cached;
///
/// #[cached(tags = [format!("user:{id}")])]
/// fn profile(id: u64) -> String { format!("profile {id}") }
///
/// profile(7);
/// assert_eq!(memocache::invalidate_tag("user:7"), 1);
/// assert_eq!(memocache::invalidate_tag("user:7"), 0);
/// ```
#[allow(clippy::must_use_candidate)] // called for its effect as often as for the count
pub fn invalidate_tag(tag: &str) -> usize {
    invalidate_tag_among(caches(), tag)
}

/// [`invalidate_tag`] over these caches, one after the other.
pub(crate) fn invalidate_tag_among(caches: Vec<&'static CacheHandle>, tag: &str) -> usize {
    let _ongoing = ongoing::begin(Scope::Tag(tag.into()));
    caches.iter().map(|c| c.invalidate_tag(tag)).sum()
}
