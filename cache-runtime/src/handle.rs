//! The cache handle behind each cached function, and the process-wide registry of them.

use crate::backend::{Backend, Wipe};
use crate::cache::{Cache, ErasedCache};
use crate::config::{Config, Settings};
use crate::key::StoredKey;
use crate::ongoing::{self, Scope};
use crate::policy::StoredValue;
use crate::rep::Rep;
use crate::stats::CacheStats;
use std::any::{Any, TypeId};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock, PoisonError};

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
    /// The cache, once the function was first called; `None` under `MEMOCACHE_DISABLE`.
    primary: OnceLock<Option<&'static dyn ErasedCache>>,
    /// Caches of other key or value types: the `Self` type of a function in an `impl` block
    /// has a handle of its own, but a generic trait's parameters, say, do not.
    others: Mutex<Vec<&'static dyn ErasedCache>>,
    /// The primary cache's place in each thread's list of copy tables
    /// ([`crate::copies::NO_COPIES`]: it has none).
    copies: AtomicUsize,
    /// What [`CacheHandle::clear`] does where this process has no cache yet: the backend's
    /// remote entries of the function are dropped all the same.
    wipe: fn(&'static str),
    /// The settings of the function's caches.
    settings: Settings,
}

/// The `wipe` of a handle whose backend has no remote store.
pub(crate) fn no_wipe(_: &'static str) {}

/// The `wipe` of a handle of backend `B`.
pub(crate) fn wipe_of<B: Wipe + Default>(name: &'static str) {
    B::default().wipe(name);
}

/// Every handle whose store exists, in the order they were first used.
static REGISTRY: Mutex<Vec<&'static CacheHandle>> = Mutex::new(Vec::new());

/// `MEMOCACHE_DISABLE`, read once: when the first store is created.
static DISABLED: LazyLock<bool> = LazyLock::new(|| {
    std::env::var("MEMOCACHE_DISABLE").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
});

impl CacheHandle {
    /// A handle whose caches are made with `settings`.
    pub(crate) const fn with_config(
        name: &'static str,
        wipe: fn(&'static str),
        settings: Settings,
    ) -> Self {
        CacheHandle {
            name,
            primary: OnceLock::new(),
            others: Mutex::new(Vec::new()),
            copies: AtomicUsize::new(crate::copies::NO_COPIES),
            wipe,
            settings,
        }
    }

    /// The cache's name: the `name` option, else the function's path (`<Self type>::f` for
    /// a function in an `impl` block or a trait).
    #[must_use]
    pub fn name(&self) -> &str {
        self.name
    }

    /// The name, for as long as the process runs.
    pub(crate) fn name_static(&self) -> &'static str {
        self.name
    }

    /// Whether the function has a cache in this process (it was called, and caching is on).
    pub(crate) fn has_cache(&self) -> bool {
        self.primary.get().copied().flatten().is_some()
    }

    /// How many entries the cache holds (expired ones not yet purged included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.each_cache(ErasedCache::len).sum()
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
        for s in self.each_cache(ErasedCache::stats) {
            total.add(&s);
        }
        total
    }

    /// Removes every entry (counted as invalidations), in the remote store too where the
    /// cache has one (for a function in a free `fn` or a non-generic `impl`, also before its
    /// first call in this process). Runs in progress do not store their results, which were
    /// computed before the clear.
    pub fn clear(&self) {
        if !self.has_cache() {
            // No cache in this process yet: a remote store still holds earlier processes'
            // entries.
            (self.wipe)(self.name);
        }
        let _ongoing = ongoing::begin(Scope::Stores(self.each_cache(ErasedCache::id).collect()));
        for () in self.each_cache(ErasedCache::clear) {}
    }

    /// The `async` form of [`CacheHandle::clear`]: a remote store is awaited, not blocked on.
    pub(crate) async fn clear_async(&self) {
        let caches: Vec<&'static dyn ErasedCache> = self.each_cache(|c| c).collect();
        let _ongoing = ongoing::begin(Scope::Stores(caches.iter().map(|c| c.id()).collect()));
        for c in caches {
            if let Some(remote) = c.clear_remote_async() {
                remote.await;
            }
            c.clear_local();
        }
    }

    pub(crate) fn invalidate_tag(&self, tag: &str) -> usize {
        self.each_cache(|c| c.invalidate_tag(tag)).sum()
    }

    fn each_cache<'a, T>(
        &'a self,
        f: impl Fn(&'static dyn ErasedCache) -> T + 'a,
    ) -> impl Iterator<Item = T> + 'a {
        let others = self
            .others
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let primary = self.primary.get().copied().flatten();
        primary.into_iter().chain(others).map(f)
    }

    /// The cache of the function types `types` (see [`Cache`] and [`Rep::Types`]), which
    /// holds keys `K` and values `V`, created on first use with the handle's settings and
    /// `backend`; `None` when caching is disabled.
    #[inline]
    pub(crate) fn cache<K: StoredKey, V: StoredValue, B: Backend<K, V>>(
        &'static self,
        backend: B,
        types: <B::Rep as Rep>::Types,
    ) -> Option<&'static Cache<K, V>> {
        // A typed cache is the one of its types where it is a `Cache<K, V>`; erased caches of
        // every type are, and are told apart by the types they were made for.
        let id = <B::Rep as Rep>::type_id::<K, V>(types);
        if let Some(Some(c)) = self.primary.get()
            && (!<B::Rep as Rep>::ERASED || c.types() == id)
            && let Some(c) = typed(*c)
        {
            return Some(c);
        }
        self.cache_slow(backend, id)
    }

    /// Where the calling thread's copies of the primary cache's entries are: their store's
    /// id ([`crate::copies::NO_COPIES`] where it keeps none).
    #[inline]
    pub(crate) fn copies(&self) -> usize {
        self.copies.load(Ordering::Relaxed)
    }

    /// The cache of the function types `types` if the function was called already.
    pub(crate) fn existing_cache<K: 'static, V: 'static>(
        &'static self,
        types: TypeId,
    ) -> Option<&'static Cache<K, V>> {
        typed(self.find(types, None)?)
    }

    /// The first call's cache for `K` and `V`, or one of a generic `impl`'s other types: made
    /// by `make`, the one typed part. Generic only in what makes the cache.
    #[cold]
    pub(crate) fn cache_slow<K: StoredKey, V: StoredValue, B: Backend<K, V>>(
        &'static self,
        backend: B,
        types: TypeId,
    ) -> Option<&'static Cache<K, V>> {
        let mut make =
            |copies| -> &'static dyn ErasedCache { self.make::<K, V, B>(backend, copies, types) };
        typed(self.find(types, Some(&mut make))?)
    }

    /// The cache whose type is `id`: the primary one, else one of the others. With `make`,
    /// the cache is created if there is none (unless caching is disabled): the primary one
    /// on the first call, else another.
    fn find(
        &'static self,
        id: TypeId,
        make: Option<&mut dyn FnMut(bool) -> &'static dyn ErasedCache>,
    ) -> Option<&'static dyn ErasedCache> {
        let mut make = make;
        let primary = match (self.primary.get(), make.as_mut()) {
            (Some(p), _) => *p,
            (None, None) => return None,
            (None, Some(make)) => *self.primary.get_or_init(|| self.first(&mut **make)),
        };
        let primary = primary?;
        if is(primary, id) {
            return Some(primary);
        }
        // Another thread may have created the cache for other types (a generic `impl`).
        let mut others = self.others.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = others.iter().find(|c| is(**c, id)) {
            return Some(*c);
        }
        // Only the primary cache's copies are looked for (`CacheHandle::copies`).
        let cache = make?(false);
        others.push(cache);
        Some(cache)
    }

    /// The primary cache, made on the first call: `None` under `MEMOCACHE_DISABLE`.
    fn first(
        &'static self,
        make: &mut dyn FnMut(bool) -> &'static dyn ErasedCache,
    ) -> Option<&'static dyn ErasedCache> {
        if *DISABLED {
            return None;
        }
        let cache = make(true);
        if let Some(id) = cache.copies_id() {
            self.copies.store(id, Ordering::Release);
        }
        // Registered before the cache is published: once a caller can store an entry,
        // `clear_all` and `invalidate_tag` find the cache (no run can begin before the
        // cache is published, so one that finds it registered but not yet published has
        // nothing to drop).
        REGISTRY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self);
        Some(cache)
    }

    /// A new cache of this handle, leaked: it lives as long as the process.
    fn make<K: StoredKey, V: StoredValue, B: Backend<K, V>>(
        &'static self,
        backend: B,
        copies: bool,
        types: TypeId,
    ) -> &'static Cache<K, V> {
        let config = self.settings.config();
        let remote = backend.remote(self.name, &config);
        let local = if B::REMOTE { config.local() } else { config };
        let cache: &'static Cache<K, V> =
            Box::leak(Box::new(Cache::new(&local, copies, remote, types)));
        // Only a backend with a remote tier has one to attach (and compiles the local side
        // the tier keeps coherent, `Local`).
        if const { B::REMOTE } {
            cache.attach();
        }
        cache
    }
}

/// Whether `c` is the cache of the function types `types`.
fn is(c: &'static dyn ErasedCache, types: TypeId) -> bool {
    c.types() == types
}

/// The cache behind `c`, if it is the one for keys `K` and values `V`.
#[inline]
fn typed<K: 'static, V: 'static>(c: &'static dyn ErasedCache) -> Option<&'static Cache<K, V>> {
    let any: &'static dyn Any = c;
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
    // Redis first, as for every invalidation: a run that starts between the two cannot
    // read the old value back from it.
    #[cfg(feature = "redis")]
    crate::redis::invalidate_tag(tag);
    caches.iter().map(|c| c.invalidate_tag(tag)).sum()
}

/// The handles of generated code's `static`s: `Config::new().ttl(..).handle(name)`.
impl Config {
    /// The handle of a function whose entries live in memory, with these settings (see
    /// [`Settings`]).
    #[must_use]
    pub const fn handle(self, name: &'static str) -> CacheHandle {
        Settings::Fixed(self).handle(name)
    }
    /// The handle of a function whose entries live in backend `B`: its `clear` reaches
    /// `B`'s remote store even before the function's first call.
    #[must_use]
    pub const fn backed_handle<B: Wipe + Default>(self, name: &'static str) -> CacheHandle {
        Settings::Fixed(self).backed_handle::<B>(name)
    }
}

/// The handles of generated code's `static`s whose settings are built when first needed.
impl Settings {
    /// The handle of a function whose entries live in memory, with these settings.
    #[must_use]
    pub const fn handle(self, name: &'static str) -> CacheHandle {
        CacheHandle::with_config(name, no_wipe, self)
    }
    /// [`Config::backed_handle`], with these settings.
    #[must_use]
    pub const fn backed_handle<B: Wipe + Default>(self, name: &'static str) -> CacheHandle {
        CacheHandle::with_config(name, wipe_of::<B>, self)
    }
}
