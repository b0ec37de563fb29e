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
//! and `*_cache` items, what it requires of keys and values, and the behaviour under
//! concurrency are described on [`cached`] (and [`cached_impl`], for trait `impl`s), and
//! in the README.
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
/// ## `ttl` and `tti`
///
/// ```
/// use memocache::{cached, testing::advance_clock};
/// use std::time::Duration;
///
/// #[cached(ttl = "1d")] // a miss once a day has passed since it was stored
/// fn forecast(city: &str) -> String { format!("sunny in {city}") }
///
/// #[cached(tti = "30m")] // a miss once idle for 30 minutes; every hit restarts it
/// fn session(token: u64) -> String { format!("session {token}") }
///
/// forecast("Oslo");
/// session(1);
/// advance_clock(Duration::from_secs(20 * 60));
/// session(1); // a hit, 20 minutes in: idle for 30 minutes from now on
/// advance_clock(Duration::from_secs(20 * 60));
/// session(1); // a hit again: the last hit was 20 minutes ago
/// assert_eq!(session_cache().stats().hits, 2);
/// advance_clock(Duration::from_secs(24 * 3600));
/// forecast("Oslo"); // a miss: the day has passed
/// assert_eq!(forecast_cache().stats().misses, 2);
/// ```
///
/// ## `key`
///
/// `key = <expr>` names what tells calls apart; `invalidate_f` then takes only the parameters
/// the expression reads. A reference (`key = symbol` for `symbol: &str`, `key = &user.id`)
/// or a tuple of references and values (`key = (symbol, page)`) is looked up as it is, so a
/// hit allocates nothing, and stored owned, as the default key is.
///
/// ```
/// use memocache::cached;
///
/// pub struct Http; // a client: not part of any key
///
/// #[cached(key = (symbol, page))]
/// fn listings(symbol: &str, page: u32, client: &Http) -> Vec<String> {
///     let _ = client;
///     vec![format!("{symbol} page {page}")]
/// }
///
/// #[cached(key = symbol.to_ascii_uppercase())] // "acme" and "ACME" are one entry
/// fn price(symbol: &str, client: &Http) -> u64 {
///     let _ = client;
///     symbol.len() as u64
/// }
///
/// listings("ACME", 1, &Http);
/// assert!(invalidate_listings("ACME", 1)); // generated: fn invalidate_listings(symbol: &str, page: u32)
/// price("acme", &Http);
/// price("ACME", &Http);
/// assert_eq!(price_cache().stats().hits, 1);
/// ```
///
/// ## `unless` and `cache_errors`
///
/// ```
/// use memocache::cached;
///
/// #[cached(unless = Option::is_none)] // `None` is returned, not stored
/// fn find(id: u64) -> Option<String> { (id % 2 == 0).then(|| id.to_string()) }
///
/// #[cached(unless = |n: &u64| *n == 0)]
/// fn count(shelf: u32) -> u64 { u64::from(shelf) }
///
/// #[cached(cache_errors)] // a parse error is stored too: the text will not change
/// fn parse(text: &str) -> Result<u32, String> { text.parse().map_err(|_| format!("not a number: {text}")) }
///
/// find(1);
/// find(1);
/// count(0);
/// parse("x").unwrap_err();
/// parse("x").unwrap_err();
/// assert_eq!((find_cache().len(), count_cache().len(), parse_cache().len()), (0, 0, 1));
/// ```
///
/// ## `stale`
///
/// For `stale` after the `ttl` has run out, a call returns the stored value at once and one
/// refresh runs: on a background thread for a function (its arguments rebuilt from the
/// key), in a spawned task for an `async fn` with the `tokio` feature; where the arguments
/// cannot travel (a method with `self`, a `key = ...`, an `unsafe fn`), or for an `async fn`
/// without the `tokio` feature or outside a tokio runtime, the caller that found the entry
/// stale waits for the refresh while every other caller gets the stale value.
///
/// ```
/// use memocache::{cached, testing::advance_clock};
/// use std::time::Duration;
///
/// #[cached(ttl = "10m", stale = "1m")]
/// fn rate(pair: &str) -> u64 { pair.len() as u64 }
///
/// rate("EURUSD");
/// advance_clock(Duration::from_secs(10 * 60 + 5)); // past the ttl, within `stale`
/// assert_eq!(rate("EURUSD"), 6); // the stored value, at once; a refresh runs meanwhile
/// ```
///
/// ## Methods
///
/// In an `impl` block the helpers are associated functions, taking `&self` only when the
/// key reads `self`. The receiver is not part of the default key: the cache belongs to the
/// function, shared by every instance; put what tells instances apart in `key = (...)`.
///
/// ```
/// use memocache::cached;
///
/// struct Repo { tenant: u32 }
///
/// impl Repo {
///     #[cached(ttl = "1m")]
///     fn user(&self, id: u64) -> String { format!("user {id}") }   // Repo::invalidate_user(id)
///
///     #[cached(key = (self.tenant, id))]
///     fn scoped(&self, id: u64) -> String { format!("{}:{id}", self.tenant) } // repo.invalidate_scoped(id)
/// }
///
/// let (a, b) = (Repo { tenant: 1 }, Repo { tenant: 2 });
/// a.user(7);
/// b.user(7); // a hit: one cache for every `Repo`
/// assert!(Repo::invalidate_user(7));
/// assert_eq!((a.scoped(7), b.scoped(7)), ("1:7".to_owned(), "2:7".to_owned()));
/// assert!(a.invalidate_scoped(7));
/// ```
///
/// In a generic `impl` (`impl<S: Source> Repo<S>`) and in a trait's default method, each
/// `Self` type has a cache of its own, named `<Self type>::f` (`crate::Repo<crate::Pg>::user`),
/// and the helpers act on their own type's (`<U as Store>::invalidate_get(1)` leaves `S`'s
/// entries alone). Lifetimes do not split caches (`Parser<'a>` has one). A trait with a
/// cached default method stays dyn-compatible: the helpers are `where Self: Sized`, and a
/// call through `dyn Trait` uses the implementing type's cache.
///
/// ```
/// use memocache::cached;
///
/// trait Store {
///     const BASE: u64;
///     #[cached]
///     fn get(&self, id: u64) -> u64 { id + Self::BASE }
/// }
///
/// struct S;
/// struct U;
/// impl Store for S { const BASE: u64 = 100; }
/// impl Store for U { const BASE: u64 = 200; }
///
/// assert_eq!((S.get(1), U.get(1)), (101, 201));
/// assert!(<U as Store>::invalidate_get(1));
/// assert!(<S as Store>::invalidate_get(1), "S kept its entry");
/// ```
///
/// A method of a **trait `impl`** needs [`cached_impl`] on the `impl` block, which puts its
/// helpers in an inherent `impl` of the type; so does an associated function that mentions
/// neither `self` nor `Self` (alone, `#[cached]` takes it for a free function), and a
/// cached method of `impl dyn Trait`.
///
/// ## `async fn`
///
/// ```
/// use memocache::cached;
///
/// #[cached(ttl = "10m")]
/// async fn product(id: u64) -> Result<String, std::io::Error> {
///     Ok(format!("product {id}")) // db.load(id).await, in real life
/// }
///
/// futures::executor::block_on(async {
///     product(7).await?;
///     product(7).await?;
///     assert!(invalidate_product(7).await); // the helpers of an async fn are async too
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Any executor works; callers waiting for another caller's run of the same key are parked
/// wakers, not blocked threads, and the future is `Send` when the body's is. The **`tokio`
/// feature** of this crate (`memocache = { .., features = ["tokio"] }`) lets a `stale`
/// refresh of an `async fn` run in a spawned task; without it, the caller that finds the
/// entry stale waits for the whole body, as on a miss.
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
/// For an `async fn`, the first three are `async fn` too.
///
/// # Requirements and limits
///
/// - **Keys.** Each part of the key (by default every parameter but `self`) must be
///   `Hash + Eq`, and `Clone + Send + Sync + 'static` once owned: a `&str` is stored as a
///   `String`, a `&[T]` as a `Vec<T>`, a `&T` as a `T`. A part that is not (an `f64`, a
///   `&dyn Client`, a connection) is one compile error at that parameter: leave it out with
///   `key = ...`, or make a key of it (`x.to_bits()` for a float). A key value that holds a
///   borrow (`key = Some(symbol)`) cannot be stored: write the borrowed parts out
///   (`key = symbol`, `key = (symbol, page)`) or own them (`Some(symbol.to_owned())`).
/// - **Values.** What is stored (the return value; for a `Result`, its `Ok` value unless
///   `cache_errors`) must be `Clone + Send + Sync + 'static`, and a hit returns a clone of
///   it. A value that borrows (`-> &str`) is refused: return `String` or `Arc<str>`. For a
///   large value (a page of rows, a parsed document), return an `Arc<T>`: a hit then
///   clones a pointer, not the data.
/// - **Refused**, each with a compile error at the offending tokens: type and const
///   generics (one cache cannot hold every instantiation's values: cache a non-generic
///   function and call it from the generic one); `impl Trait` arguments or return types
///   (the helpers must name the types); `&mut` parameters (a hit would skip the body's
///   writes); parameters that are patterns (the key needs names); `const fn`; a function
///   returning `()`; more than 12 parameters in the default key. Lifetime generics are fine.
/// - **What a cache is.** A free function has one cache. A method's cache belongs to the
///   function, not the instance (the receiver is not in the default key), and to its
///   `Self` type: one per type of a generic `impl` or implementor of a trait default method.
///   The `name` option names every `Self` type's cache the same.
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
///
/// # Tests that run in parallel
///
/// Caches and their stats are process-wide, and `cargo test` runs a file's tests on
/// several threads at once: two tests calling the same cached function see each other's
/// entries and counts. Three ways to keep them independent:
///
/// - give each test keys of its own and look at its own entries (`invalidate_f(k)` returns
///   whether `k` was stored), or at the difference in a counter over the test, never at the
///   cache's totals;
/// - hold a [`bypass()`] guard in tests that must see the body run every time: cached
///   functions on that thread then neither read nor store;
/// - move time with [`testing::advance_clock`], which is per thread, instead of sleeping.
///
/// ```
/// use memocache::cached;
///
/// #[cached]
/// fn square(n: u64) -> u64 { n * n }
///
/// // A test of code that calls `square`, run next to others that call it too:
/// let before = square_cache().stats().misses;
/// square(1_000_001);
/// assert!(square_cache().stats().misses > before); // a delta: other tests may add to it
/// assert!(invalidate_square(1_000_001));            // this test's own key
///
/// let _fresh = memocache::bypass(); // from here on this thread runs every body
/// square(3);
/// assert!(!invalidate_square(3), "nothing was stored under the bypass");
/// ```
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
