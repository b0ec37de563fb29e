//! A cache's settings, built by the generated code the first time the function is called.

use std::time::Duration;

/// The default most-entries bound of a cache: `10_000`.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// The settings of one cache (the attribute's options, evaluated once).
///
/// ```
/// use std::time::Duration;
/// let c = cache_runtime::__private::Config::new().ttl(Duration::from_secs(300)).capacity(64);
/// assert_eq!(c.get_capacity(), Some(64));
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) ttl: Option<Duration>,
    pub(crate) tti: Option<Duration>,
    pub(crate) stale: Option<Duration>,
    pub(crate) capacity: Option<usize>,
    pub(crate) single_flight: bool,
    pub(crate) tagged: bool,
}

/// The setters of the duration settings, one alike the other.
macro_rules! durations {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(mut self, d: Duration) -> Self {
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
    pub fn new() -> Self {
        Config {
            ttl: None,
            tti: None,
            stale: None,
            capacity: Some(DEFAULT_CAPACITY),
            single_flight: true,
            tagged: false,
        }
    }
    durations! {
        /// An entry is a miss once `d` has passed since it was stored.
        ttl,
        /// An entry is a miss once `d` has passed since it was last stored or hit.
        tti,
        /// For `d` after the `ttl` runs out, the old value is served while one refresh runs.
        stale,
    }
    /// Keeps at most `n` entries (0 keeps none).
    #[must_use]
    pub fn capacity(mut self, n: usize) -> Self {
        self.capacity = Some(n);
        self
    }
    /// No capacity bound.
    #[must_use]
    pub fn unbounded(mut self) -> Self {
        self.capacity = None;
        self
    }
    /// Whether concurrent misses on one key wait for a single run of the body.
    #[must_use]
    pub fn single_flight(mut self, on: bool) -> Self {
        self.single_flight = on;
        self
    }
    /// Entries carry tags (the function has a `tags` option), which
    /// [`invalidate_tag`](crate::invalidate_tag) looks for.
    #[must_use]
    pub fn tagged(mut self) -> Self {
        self.tagged = true;
        self
    }
    /// The capacity bound, `None` when unbounded.
    #[must_use]
    pub fn get_capacity(&self) -> Option<usize> {
        self.capacity
    }
}
