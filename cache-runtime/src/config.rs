//! A cache's settings: [`Config`], and how a handle holds them ([`Settings`]: built at compile
//! time when every option is a literal, else the first time the function is called).

use std::time::Duration;

/// The default most-entries bound of a cache: `10_000`.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// The settings of one cache (the attribute's options, evaluated once). Its setters are
/// `const`: the handle of a function whose options are all literals holds it built.
///
/// ```
/// use std::time::Duration;
/// const C: cache_runtime::__private::Config =
///     cache_runtime::__private::Config::new().ttl(Duration::from_secs(300)).capacity(64);
/// assert_eq!(C.get_capacity(), Some(64));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub(crate) ttl: Option<Duration>,
    pub(crate) tti: Option<Duration>,
    pub(crate) stale: Option<Duration>,
    pub(crate) capacity: Option<usize>,
    pub(crate) single_flight: bool,
    pub(crate) tagged: bool,
    /// With a remote tier: how long the local (near) copy of an entry may live.
    pub(crate) near: Option<Duration>,
    /// With a remote tier: part of the values' type fingerprint.
    pub(crate) version: &'static str,
    pub(crate) eviction: Eviction,
}

/// Which entry a full cache evicts (see `store/order.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Eviction {
    /// The default: W-TinyLFU, frequency-aware and scan-resistant.
    TinyLfu,
    /// `eviction = "lru"`: the least recently used entry.
    Lru,
}

/// The setters of the duration settings, one alike the other.
macro_rules! durations {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub const fn $name(mut self, d: Duration) -> Self {
                self.$name = Some(d);
                self
            }
        )*
    };
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// Capacity [`DEFAULT_CAPACITY`], no expiry, single-flight on.
    #[must_use]
    pub const fn new() -> Self {
        Config {
            ttl: None,
            tti: None,
            stale: None,
            capacity: Some(DEFAULT_CAPACITY),
            single_flight: true,
            tagged: false,
            near: None,
            version: "",
            eviction: Eviction::TinyLfu,
        }
    }
    durations! {
        /// An entry is a miss once `d` has passed since it was stored.
        ttl,
        /// An entry is a miss once `d` has passed since it was last stored or hit.
        tti,
        /// For `d` after the `ttl` runs out, the old value is served while one refresh runs.
        stale,
        /// With a remote tier (`redis`): keep a local copy of an entry for up to `d`.
        near,
    }
    /// Keeps at most `n` entries (0 keeps none).
    #[must_use]
    pub const fn capacity(mut self, n: usize) -> Self {
        self.capacity = Some(n);
        self
    }
    /// No capacity bound.
    #[must_use]
    pub const fn unbounded(mut self) -> Self {
        self.capacity = None;
        self
    }
    /// A full cache evicts its least recently used entry (`eviction = "lru"`), instead of
    /// the default, frequency-aware policy (which keeps what is asked for often, and lets a
    /// scan of one-time keys pass through).
    #[must_use]
    pub const fn lru(mut self) -> Self {
        self.eviction = Eviction::Lru;
        self
    }
    /// Whether concurrent misses on one key wait for a single run of the body.
    #[must_use]
    pub const fn single_flight(mut self, on: bool) -> Self {
        self.single_flight = on;
        self
    }
    /// Entries carry tags (the function has a `tags` option), which
    /// [`invalidate_tag`](crate::invalidate_tag) looks for.
    #[must_use]
    pub const fn tagged(mut self) -> Self {
        self.tagged = true;
        self
    }
    /// With a remote tier (`redis`): the `version` that joins the values' type fingerprint.
    #[must_use]
    pub const fn version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }
    /// The settings of the in-memory store in front of a remote tier: it keeps entries only
    /// with `near` (else it keeps none, and is there for its single-flight), for at most
    /// `near`, within `capacity`.
    pub(crate) fn local(&self) -> Config {
        let mut local = *self;
        match self.near {
            Some(near) => {
                local.ttl = Some(self.ttl.map_or(near, |ttl| ttl.min(near)));
                local.stale = None;
            }
            None => {
                local.capacity = Some(0);
                local.ttl = None;
                local.stale = None;
            }
        }
        local
    }
    /// The capacity bound, `None` when unbounded.
    #[must_use]
    pub const fn get_capacity(&self) -> Option<usize> {
        self.capacity
    }
}

/// How a handle holds its caches' settings.
///
/// ```
/// use cache_runtime::__private::{Config, Settings};
/// fn from_env() -> Config {
///     Config::new().capacity(std::env::var("CAP").map_or(64, |c| c.parse().unwrap_or(64)))
/// }
/// static FIXED: cache_runtime::CacheHandle = Config::new().capacity(64).handle("fixed");
/// static BUILT: cache_runtime::CacheHandle = Settings::Built(from_env).handle("built");
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Settings {
    /// Built at compile time: every option of the attribute is a literal.
    Fixed(Config),
    /// Built by this function when the function's first cache is made: an option is an
    /// expression (`capacity = limits::CAPACITY`, `ttl = Duration::from_secs(n)`).
    Built(fn() -> Config),
}

impl Settings {
    /// The settings.
    pub(crate) fn config(self) -> Config {
        match self {
            Settings::Fixed(c) => c,
            Settings::Built(f) => f(),
        }
    }
}
