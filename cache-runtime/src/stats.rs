//! Cache statistics: the counters a [`crate::CacheHandle`] reports.

use std::fmt;

/// A snapshot of one cache's counters since it was created.
///
/// Every call of a cached function counts once, as a hit (answered without running the
/// body: from the store, or from a concurrent caller's run through single-flight) or as a
/// miss (the body ran). Calls under [`crate::bypass`] or `MEMOCACHE_DISABLE` are not counted.
///
/// ```
/// let s = memocache_stats_example();
/// # fn memocache_stats_example() -> cache_runtime::CacheStats { cache_runtime::CacheStats { hits: 3, misses: 1, ..Default::default() } }
/// assert_eq!(s.hit_ratio(), 0.75);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CacheStats {
    /// Calls answered without running the body.
    pub hits: u64,
    /// Calls that ran the body (including `refresh_*` calls).
    pub misses: u64,
    /// Entries removed to stay within the capacity.
    pub evictions: u64,
    /// Entries removed because their `ttl` or `tti` ran out.
    pub expirations: u64,
    /// Entries removed by `invalidate_*`, `invalidate_all_*`, `clear`, or `invalidate_tag`.
    pub invalidations: u64,
    /// Failures of the store behind the cache: always 0 for the in-memory store, which cannot
    /// fail (a store that can, such as the coming Redis one, counts its errors here).
    pub errors: u64,
}

impl CacheStats {
    /// `hits / (hits + misses)`, or 0 when there were no calls.
    #[must_use]
    pub fn hit_ratio(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            #[allow(clippy::cast_precision_loss)] // a ratio needs no more than f64's 52 bits
            let r = self.hits as f64 / total as f64;
            r
        }
    }

    pub(crate) fn add(&mut self, o: &CacheStats) {
        self.hits += o.hits;
        self.misses += o.misses;
        self.evictions += o.evictions;
        self.expirations += o.expirations;
        self.invalidations += o.invalidations;
        self.errors += o.errors;
    }
}

impl fmt::Display for CacheStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hits {} misses {} ({:.1}% hits) evictions {} expirations {} invalidations {} errors {}",
            self.hits,
            self.misses,
            self.hit_ratio() * 100.0,
            self.evictions,
            self.expirations,
            self.invalidations,
            self.errors
        )
    }
}
