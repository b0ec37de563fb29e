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

/// Caches a function's results: a call with arguments seen before returns the stored
/// result instead of running the body.
///
/// ```
/// use memocache::cached;
///
/// #[cached(ttl = "5m", capacity = 1_000, tags = [format!("user:{id}")])]
/// fn profile(id: u64, lang: &str) -> Result<String, std::io::Error> {
///     Ok(format!("profile {id} in {lang}")) // a slow trip, in real life
/// }
///
/// profile(7, "en")?;                          // miss: the body runs, `Ok` is stored
/// profile(7, "en")?;                          // hit
/// assert!(invalidate_profile(7, "en"));       // drop that entry
/// profile(7, "en")?;
/// assert_eq!(memocache::invalidate_tag("user:7"), 1);
/// assert_eq!(profile_cache().stats().hits, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Options
///
/// All optional, in any order, each at most once:
///
/// | option | value | meaning |
/// |---|---|---|
/// | `ttl` | `"5m"` (units `ms`, `s`, `m`, `h`, `d`, combined as `"1h30m"`) or a `Duration` expression | an entry is a miss once `ttl` has passed since it was stored |
/// | `tti` | as `ttl` | an entry is a miss once `tti` has passed since it was last stored or hit |
/// | `capacity` | integer >= 1, or a `usize` expression | most entries kept (default 10 000); least recently used goes first |
/// | `unbounded` | flag | no capacity limit |
/// | `key` | an expression over the parameters | the cache key (default: every parameter but `self`, owned); its type is inferred |
/// | `name` | string literal | the name in stats and the registry (default: the function's path) |
/// | `unless` | something callable as `Fn(&R) -> bool` | a result it says true of is returned, not stored |
/// | `cache_errors` | flag | for a `Result`, store `Err` too (by default only `Ok`) |
/// | `tags` | `[expr, ...]`, each `Display` | labels for [`invalidate_tag`] |
/// | `single_flight` | `true` / `false` | concurrent misses on one key run the body once (default `true`) |
/// | `stale` | as `ttl`; needs `ttl` | for this long after `ttl`, serve the old value at once while one refresh runs |
///
/// Duration literals and `capacity` literals are checked at compile time; `ttl`, `tti`,
/// `stale` and `capacity` expressions are evaluated once, on the first call.
///
/// # Generated items
///
/// Next to `fn f(a: A, b: &B) -> R`, with the same visibility and `cfg`s:
///
/// - `fn invalidate_f(<key params>) -> bool`: removes the entry `f` would read for these
///   arguments (the parameters the key reads, in order); true if one was there.
/// - `fn invalidate_all_f()`: removes every entry of `f`.
/// - `fn refresh_f(a: A, b: &B) -> R`: runs the body now and stores the result.
/// - `fn f_cache() -> &'static CacheHandle`: name, size, [`CacheStats`], `clear()`.
///
/// For an `async fn`, the first three are `async fn` too. In an inherent `impl` block they
/// are associated functions (`Self::invalidate_f`), taking `&self` only when the key reads
/// `self`; the receiver is not part of the default key. A function counts as in an `impl`
/// block when it has a receiver or mentions `Self`; trait `impl` blocks are refused.
///
/// # Behaviour
///
/// A hit never runs the body; no lock is held while the body runs; a panic in the body
/// stores nothing and a waiting caller runs the body instead; a cached function may call
/// itself or other cached functions. An invalidation that lands while the body runs keeps
/// that run's result out of the cache.
///
/// In a cache of 512 entries or more (or `unbounded`) without `tti`, whose key and value
/// types own no heap memory (numbers, tuples of them, `Copy` structs), each thread also
/// keeps copies of up to 1024 entries it read lately and answers repeated hits from them
/// with no lock. This changes nothing a caller sees: once `invalidate_f`, `clear`, a
/// refresh, an eviction or the `ttl` removes or replaces an entry, no thread's copy serves
/// it again, and those hits count in [`CacheHandle::stats`] like any other. The copies cost
/// at most about 80 KB per thread and cache for `u64 -> u64` (a hash table of 2048 slots).
pub use cache_macros::cached;
/// On an `impl` block: tells the `#[cached]` functions inside where they are.
///
/// `#[cached]` sees only the function it is on. Put this on the `impl` block around it when
///
/// - the block is a **trait `impl`**: the cached method stays in it, and its helpers
///   (`invalidate_f`, `invalidate_all_f`, `refresh_f`, `f_cache`) go to an inherent `impl` of
///   the type, which the attribute writes (so the type must be one of this crate's);
/// - an **associated function mentions neither `self` nor `Self`**: on its own, `#[cached]`
///   would take it for a free function.
///
/// ```
/// use memocache::{cached, cached_impl};
///
/// trait Shape {
///     fn area(&self) -> u64;
/// }
///
/// struct Square(u64);
///
/// #[cached_impl]
/// impl Shape for Square {
///     #[cached]
///     fn area(&self) -> u64 {
///         self.0 * self.0 // the receiver is not part of the key: this caches one value
///     }
/// }
///
/// struct Catalog;
///
/// #[cached_impl]
/// impl Catalog {
///     #[cached]
///     fn count(shelf: u32) -> u32 {
///         shelf * 10
///     }
/// }
///
/// assert_eq!(Square(3).area(), 9);
/// assert!(Square::invalidate_area()); // on the type, as in an inherent `impl`
/// assert_eq!(Catalog::count(2), 20);
/// assert_eq!(Catalog::count_cache().len(), 1);
/// ```
///
/// It expands the functions whose attribute is spelled `#[cached]`, `#[memocache::cached]`
/// or `#[::memocache::cached]`. The helpers of a trait `impl`'s functions are private to the
/// module, like the `impl`'s items; `#[cached_impl(pub)]` (or `pub(crate)`, ...) gives them
/// that visibility. Two trait `impl`s of one type that each cache a method of the same
/// name would define the same helpers twice: cache one of them in an inherent method.
pub use cache_macros::cached_impl;
pub use cache_runtime::{
    BypassGuard, CacheHandle, CacheStats, DEFAULT_CAPACITY, bypass, caches, clear_all,
    invalidate_tag, testing,
};

/// What `#[cached]` expands to calls. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use cache_runtime::__private::*;
}
