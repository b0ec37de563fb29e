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
/// itself or other cached functions. An `Err` is not stored (without `cache_errors`), and
/// the callers that waited for that run get a clone of it when the error type is
/// `Clone + Send + Sync + 'static`; with another error type each of them runs the body
/// itself (wrap the error in an `Arc` to share it).
///
/// Invalidation holds under concurrency: once `invalidate_f(..)`, `invalidate_all_f()`,
/// `f_cache().clear()`, [`clear_all`] or [`invalidate_tag`] has returned, every call of `f`
/// that starts afterwards returns a value from a body run that started after that return,
/// whether a stored entry, a thread's copy, a run it joins or a stale serve answers it; once
/// `refresh_f(..)` has returned, later calls return its value or a newer one. A run in
/// progress when the invalidation lands stores nothing; only the callers already waiting for
/// it get its value. The invalidation does not wait for that run: it detaches it, and the
/// next caller starts a new one.
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
/// Drops the listed cache entries once the function's body has returned: put it on the
/// functions that change the data, and no write can forget its `invalidate_*` call.
///
/// ```
/// use memocache::{cached, invalidates};
/// use std::sync::Mutex;
///
/// static USERS: Mutex<Vec<String>> = Mutex::new(Vec::new());
///
/// #[cached(tags = [format!("user:{id}")])]
/// fn profile(id: usize) -> Option<String> {
///     USERS.lock().unwrap().get(id).map(|name| format!("<b>{name}</b>"))
/// }
///
/// #[cached]
/// fn user_list() -> Vec<String> {
///     USERS.lock().unwrap().clone()
/// }
///
/// #[invalidates(profile(id), tag(format!("user:{id}")), all(user_list))]
/// fn rename_user(id: usize, name: &str) -> Result<(), String> {
///     let mut users = USERS.lock().unwrap();
///     *users.get_mut(id).ok_or("no such user")? = name.to_owned();
///     Ok(())
/// }
///
/// USERS.lock().unwrap().push("Ada".into());
/// assert_eq!(profile(0).as_deref(), Some("<b>Ada</b>"));
/// rename_user(0, "Ada Lovelace")?;
/// assert_eq!(profile(0).as_deref(), Some("<b>Ada Lovelace</b>"));
/// assert_eq!(user_list(), ["Ada Lovelace"]);
/// assert!(rename_user(9, "nobody").is_err()); // an `Err`: nothing is invalidated
/// # Ok::<(), String>(())
/// ```
///
/// # Targets
///
/// A comma-separated list, run in the order written:
///
/// | target | runs | for |
/// |---|---|---|
/// | `f(args)` | `invalidate_f(args)` | the one entry `f(..)` reads for those key arguments |
/// | `path::f(args)`, `Self::f(args)` | `path::invalidate_f(args)` | a cached function elsewhere, or an associated one |
/// | `self.f(args)` | `self.invalidate_f(args)` | a method whose key reads `self` (its helper takes `&self`) |
/// | `all(f)`, `all(f, Self::g)` | `invalidate_all_f()`, ... | every entry of each function |
/// | `tag(expr)` | [`invalidate_tag`]`(&expr.to_string())` | every entry labelled `expr` (any `Display` value, as in `tags = [..]`), in every cache |
///
/// A target's arguments are those of `invalidate_f`: the parameters the cached function's
/// key reads, with their types (`&str` where `f` takes `&str`). The call is made of your
/// tokens, so rustc checks it where you wrote it: a name with no cached function behind it
/// is "cannot find function `invalidate_f`" on the name, a wrong count "this function takes
/// 1 argument but 2 arguments were supplied" on the arguments, a wrong type "mismatched
/// types" on the argument, with rustc's own help ("consider borrowing here: `&name`").
/// (rustc may also offer a similarly named `invalidate_*` function: the fix is the cached
/// function's name, not the helper's.) A cached function named like a keyword of the list
/// (`all`, `tag`, `before`, `always`) is named by a path: `self::tag(id)`.
///
/// # When they run
///
/// - After the body returns, before the function returns to its caller. For a function
///   returning `Result` (any return type whose last path segment is `Result`, as for
///   `#[cached]`), only on `Ok`; with `always`, on `Err` too. For any other return type,
///   after every return.
/// - A body that panics runs none: the panic reaches the caller, the entries stay.
/// - `before` also runs them before the body: the double delete, for a reader that fills the
///   cache from the old data while the write is in flight (it is dropped again after).
/// - `return` and `?` in the body mean what they meant: the body runs as a closure (an
///   `async` block for an `async fn`), and what it returns is what the function returns.
///
/// Once the function has returned, no call of a target that starts afterwards gets a value
/// computed from the old data: the guarantee of `invalidate_*`, `invalidate_all_*` and
/// [`invalidate_tag`] under concurrency (see [`cached`]) carries over. Each invalidation
/// counts in the target's [`CacheStats::invalidations`], as a direct call would.
///
/// # Arguments: taken before the body
///
/// The arguments are expressions over the parameters, evaluated before the body runs, in
/// the order written, so the targets get the values the function was called with even if
/// the body moves or changes the parameters:
///
/// - a parameter alone (`f(id)`, `f(name)`) is moved if nothing else reads it, and cloned
///   otherwise (a copy for numbers and references);
/// - `&expr` (`f(&name)`, `f(&user.email)`) is a reference to an owned copy of `expr` (a
///   `String` for a `String` or a `str`, a `Vec` for a slice, a clone otherwise), which
///   rustc passes where `invalidate_f` takes a `&str`, `&[T]` or `&T`;
/// - anything else (`f(user.id)`, `f(format!(..))`, `f(id + 1)`) is evaluated as written.
///
/// So `f(&name)` works for a `name: String` that the body consumes, and `f(user.id)` for a
/// `user: User` that is not `Clone`. An argument that borrows and is not written `&expr`
/// (`f(name.as_str())`) still borrows across the body: write `&name`.
///
/// ```
/// use memocache::{cached, invalidates};
///
/// #[cached]
/// fn by_email(email: &str) -> Option<usize> { email.find('@') }
///
/// #[cached]
/// fn account(id: u64) -> String { format!("account {id}") }
///
/// struct NewUser { id: u64, email: String } // not `Clone`
///
/// fn insert(user: NewUser) -> Result<u64, String> { Ok(user.id) }
///
/// #[invalidates(by_email(&user.email), account(user.id))]
/// fn register(user: NewUser) -> Result<u64, String> {
///     insert(user) // consumes `user`; the targets got copies of what they need
/// }
///
/// by_email("ada@example.com");
/// register(NewUser { id: 7, email: "ada@example.com".into() })?;
/// assert!(by_email_cache().is_empty());
/// # Ok::<(), String>(())
/// ```
///
/// # `result`: what the body returned
///
/// An argument that reads `result` is evaluated after the body, with `result` a reference
/// to the `Ok` value (for a `Result`) or to the returned value: for ids only known once the
/// write is done. Such a target does not run `before`, and cannot be combined with `always`
/// (there is no `Ok` value on `Err`).
///
/// ```
/// use memocache::{cached, invalidates};
/// use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
///
/// static NEXT: AtomicU64 = AtomicU64::new(1);
///
/// #[cached]
/// fn order(id: u64) -> Option<u64> { (id < NEXT.load(SeqCst)).then_some(id) }
///
/// #[invalidates(order(*result))]
/// fn place_order() -> u64 { NEXT.fetch_add(1, SeqCst) }
///
/// assert_eq!(order(1), None);     // stored: no such order yet
/// assert_eq!(place_order(), 1);
/// assert_eq!(order(1), Some(1));  // the stored `None` was dropped
/// ```
///
/// # Methods
///
/// ```
/// use memocache::{cached, invalidates};
///
/// struct Repo { tenant: u64 }
///
/// impl Repo {
///     #[cached]
///     fn user(&self, id: u64) -> String { format!("user {id}") }   // Repo::invalidate_user(id)
///
///     #[cached(key = (self.tenant, id))]
///     fn scoped(&self, id: u64) -> String { format!("user {id}") } // repo.invalidate_scoped(id)
///
///     #[invalidates(Self::user(id), self.scoped(id))]
///     fn rename(&mut self, id: u64, name: &str) { let _ = name; /* write */ }
/// }
///
/// let mut repo = Repo { tenant: 1 };
/// repo.user(7);
/// repo.scoped(7);
/// repo.rename(7, "Ada");
/// assert!(Repo::user_cache().is_empty() && Repo::scoped_cache().is_empty());
/// ```
///
/// `#[invalidates]` adds no item, so it also goes on trait methods and in trait `impl`s. A
/// `self.f(..)` target borrows `self` after the body: a method whose body changes a field
/// and returns a borrow of it cannot also have one (rustc reports E0501); name that target
/// `Self::f(..)` if its key does not read `self`.
///
/// # `async fn`
///
/// On an `async fn`, the helpers of `async` cached functions are awaited and those of sync
/// ones run as they are, so a target can move to an `async` (or remote) store without a
/// change here. The future is `Send` when the body's is. A sync function cannot await, so
/// an `async` target there is a compile error on the target ("this target is an `async fn`'s
/// helper: a sync function cannot await it"), not a future silently dropped:
///
/// ```
/// use memocache::{cached, invalidates};
///
/// #[cached]
/// async fn product(id: u64) -> String { format!("product {id}") }
///
/// #[cached]
/// fn price(id: u64) -> u64 { id * 100 }
///
/// #[invalidates(product(id), price(id))]
/// async fn reprice(id: u64, cents: u64) { let _ = cents; /* write */ }
///
/// futures::executor::block_on(async {
///     product(1).await;
///     reprice(1, 250).await;
///     assert!(product_cache().is_empty());
/// });
/// ```
///
/// ```compile_fail,E0277
/// # use memocache::{cached, invalidates};
/// #[cached]
/// async fn product(id: u64) -> String { format!("product {id}") }
///
/// #[invalidates(product(id))] // error: a sync function cannot await it
/// fn reprice(id: u64, cents: u64) {}
/// ```
///
/// # Compile errors
///
/// Besides rustc's on the calls: an empty list; a target without its arguments
/// (`profile` for `profile(id)`); a malformed `all(..)` or `tag(..)`; the same target twice,
/// or `f(..)` next to `all(f)`; a repeated flag, or a flag with a value; `always` on a
/// function that does not return `Result`; `result` with `always`, in a function returning
/// `()`, or next to a parameter named `result`; `before` when every target reads `result`;
/// a `const fn`; a function without a body; anything but a function.
pub use cache_macros::invalidates;
pub use cache_runtime::{
    BypassGuard, CacheHandle, CacheStats, DEFAULT_CAPACITY, bypass, caches, clear_all,
    invalidate_tag, testing,
};

/// Redis as a shared store behind `#[cached(redis)]` (cargo feature `redis`).
///
/// ```no_run
/// use memocache::cached;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct Rates {
///     eur: f64,
/// }
///
/// memocache::redis::init(memocache::redis::Config::from_url("redis://127.0.0.1:6379/")?)?;
///
/// #[cached(ttl = "1h", redis)]
/// fn rates(day: u32) -> Rates {
///     Rates { eur: 1.08 } // every process reads this entry from Redis once it is there
/// }
///
/// rates(20261201);
/// invalidate_rates(20261201); // for every process
/// # Ok::<(), memocache::redis::Error>(())
/// ```
///
/// Entries live under `<prefix>:<cache name>:<encoded key>` (the prefix is `memocache`
/// unless [`Config::key_prefix`](redis::Config::key_prefix) says otherwise) with Redis's own
/// expiry, `PX` = the function's `ttl`. A function's keys spread over a Cluster's slots.
/// Values carry a fingerprint of their type and of the function's `version = ".."`, so that a
/// deploy that changes either reads an old entry as a miss, never as garbage; a value that is
/// corrupted or written by something else is a miss too, and the fresh value replaces it.
///
/// Without [`init`](redis::init), the configuration comes from `MEMOCACHE_REDIS_URL` (one URL,
/// or several separated by commas for a Redis Cluster), else `redis://127.0.0.1:6379/`.
///
/// Only a call that would run the body asks Redis (one call per process and key, for all the
/// callers waiting on it); on a Redis hit the body does not run. An invalidation reaches Redis
/// before it returns, so that no process reads the old value from Redis afterwards, and a run
/// that began before it stores nothing there (each run fills its key under a lease that the
/// invalidation deletes). `invalidate_tag` reaches Redis too, also for functions this process
/// never called, once the process uses Redis (it called `init`, has a Redis cache, or has
/// `MEMOCACHE_REDIS_URL` set).
///
/// **Failures.** Redis down, refusing, slow or paused: each operation waits at most the
/// operation timeout (50 ms unless configured), then the function runs its body and returns
/// its value. The failure is counted in the cache's `stats().errors`; after a few in a row
/// every call skips Redis at once until a background `PING` answers. A warning is logged
/// (`tracing`, target `memocache::redis`) when that starts and one line with counts when it
/// ends, never once per call. An invalidation that could not reach Redis is kept and replayed
/// when Redis answers again, before that cache reads from it.
#[cfg(feature = "redis")]
pub mod redis {
    pub use cache_runtime::redis::{Config, DEFAULT_URL, ENV_URL, Error, ErrorKind, init};
}

/// What `#[cached]` expands to calls. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use cache_runtime::__private::*;
}
