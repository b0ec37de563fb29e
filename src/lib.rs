//! # memocache
//!
//! Memoization for Rust: put `#[cached]` on a function and repeated calls with the same
//! arguments are answered from memory.
//!
//! ```
//! use memocache::cached;
//!
//! #[cached(ttl = "5m", capacity = 1_000)]
//! fn stock_price(symbol: &str) -> Result<f64, String> {
//!     // a slow trip to an upstream API
//!     Ok(symbol.len() as f64)
//! }
//!
//! assert_eq!(stock_price("ACME"), Ok(4.0)); // miss: the body runs, `Ok` is stored
//! assert_eq!(stock_price("ACME"), Ok(4.0)); // hit: the body does not run
//! assert!(invalidate_stock_price("ACME"));  // generated next to the function
//! assert_eq!(stock_price_cache().stats().hits, 1);
//! ```
//!
//! The attribute's options, the generated `invalidate_*`, `invalidate_all_*`, `refresh_*`
//! and `*_cache` items, and the behaviour under concurrency are described on [`cached`]
//! and in the README.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub use cache_macros::cached;
pub use cache_runtime::{
    BypassGuard, CacheHandle, CacheStats, DEFAULT_CAPACITY, bypass, caches, clear_all,
    invalidate_tag, testing,
};

/// What `#[cached]` expands to calls. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use cache_runtime::__private::*;
}
