//! Every form of `#[cached]` compiles without a warning under the strictest lints a user
//! may turn on (`cargo clippy --all-targets` checks the `clippy::pedantic` part), with
//! traps for generated code that names anything by a path a user's scope could shadow.
//!
//! The test itself only calls each form once: compiling is the point.
#![deny(warnings, unused_qualifications, clippy::pedantic)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs a future on this thread. The cached functions here never wait on another caller,
/// so polling in a loop is enough.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Code as users write it, next to modules named like the crates generated code uses.
mod forms {
    // Generated paths are absolute (`::core::..`, `::memocache::..`): these must not matter.
    mod core {}
    mod memocache {}

    use ::memocache::cached;
    use std::fmt;
    use std::num::ParseIntError;
    use std::time::Duration;

    #[derive(Clone, Debug, PartialEq)]
    pub struct FetchError(pub String);

    pub struct Client;

    /// Default key over two parameters.
    #[cached]
    pub fn area(width: u32, height: u32) -> u64 {
        u64::from(width) * u64::from(height)
    }

    /// No parameter at all: the key is `()`.
    #[cached(unbounded)]
    #[must_use]
    pub fn answer() -> u32 {
        42
    }

    /// `key = ...`, tags, a literal TTL, and a `Result` of which only `Ok` is stored.
    ///
    /// # Errors
    ///
    /// When the symbol is empty.
    #[cached(ttl = "5m", key = symbol.to_uppercase(), tags = [format!("sym:{symbol}"), "prices"])]
    pub fn price(symbol: &str, client: &Client) -> Result<f64, FetchError> {
        let _ = client;
        if symbol.is_empty() {
            return Err(FetchError("empty symbol".into()));
        }
        Ok(f64::from(u8::try_from(symbol.len()).unwrap_or(u8::MAX)))
    }

    /// `unless` as a path.
    #[cached(unless = Option::is_none, capacity = 100)]
    pub fn find(id: u32) -> Option<String> {
        id.is_multiple_of(2).then(|| id.to_string())
    }

    /// `unless` as a closure, `tti`, `single_flight`, `name`.
    #[cached(unless = |n: &u32| *n == 0, tti = "30s", single_flight = false, name = "digits")]
    pub fn digits(n: u64) -> u32 {
        n.checked_ilog10().map_or(1, |d| d + 1)
    }

    /// `cache_errors`: `Err` is stored too.
    ///
    /// # Errors
    ///
    /// When `text` is not a number.
    #[cached(cache_errors, ttl = Duration::from_secs(60), capacity = 10 * 10)]
    pub fn parse(text: &str) -> Result<u32, String> {
        text.parse().map_err(|e: ParseIntError| e.to_string())
    }

    /// A path to `io::Result`: still only `Ok` is stored (`io::Error` is not `Clone`).
    ///
    /// # Errors
    ///
    /// Never, in fact.
    #[cached(ttl = "1h30m", stale = "1m")]
    pub fn read_len(path: &str) -> std::io::Result<usize> {
        Ok(path.len())
    }

    /// `stale` on a free function: the refresh runs on a background thread, with the
    /// arguments rebuilt from the key.
    #[cached(ttl = "1m", stale = "10s")]
    pub fn label(name: &str, n: u32, tags: Vec<String>) -> String {
        format!("{name}#{n}:{}", tags.len())
    }

    /// Lifetime generics, a `where` clause, and a slice key.
    #[cached]
    pub fn pick<'a, 'b>(words: &'a [String], fallback: &'b str, at: usize) -> String
    where
        'b: 'a,
    {
        words
            .get(at)
            .map_or_else(|| fallback.to_owned(), Clone::clone)
    }

    /// `mut` bindings stay in the body's function only.
    #[cached]
    pub fn countdown(mut from: u32, mut step: u32) -> u32 {
        step = step.max(1);
        while from >= step {
            from -= step;
        }
        from
    }

    /// An unused parameter that still tells calls apart, and a lint the body expects.
    #[cached]
    #[expect(clippy::cast_possible_truncation, reason = "the test wants a wrap")]
    pub fn low_byte(value: u64, _salt: u8) -> u8 {
        value as u8
    }

    /// A raw identifier: the helpers are `invalidate_match`, `match_cache`...
    #[cached]
    pub fn r#match(a: u8, b: u8) -> bool {
        a == b
    }

    /// Needs care.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live `u32`.
    #[cached(key = addr)]
    pub unsafe fn read_at(ptr: *const u32, addr: usize) -> u32 {
        // SAFETY: the caller's promise.
        unsafe { *ptr }
    }

    /// Kept only when this `cfg` holds, with its helpers.
    #[cfg(not(any()))]
    #[cached]
    pub fn configured(x: u8) -> u8 {
        x
    }

    /// An `extern "C"` function: the ABI stays on it; the helpers are Rust functions.
    #[cached]
    pub extern "C" fn ffi_double(x: u32) -> u32 {
        x.wrapping_mul(2)
    }

    #[derive(Debug)]
    pub struct BadNumber(pub ParseIntError);

    impl From<ParseIntError> for BadNumber {
        fn from(e: ParseIntError) -> Self {
            BadNumber(e)
        }
    }

    impl fmt::Display for BadNumber {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "bad number: {}", self.0)
        }
    }

    /// `async`, with `?` converting the error through `From`.
    ///
    /// # Errors
    ///
    /// When `text` is not a number.
    #[cached(ttl = "10s")]
    pub async fn parse_async(text: String) -> Result<u32, BadNumber> {
        let n: u32 = text.trim().parse()?;
        Ok(n)
    }

    #[derive(Clone)]
    pub struct Account {
        pub id: u32,
        pub rate: u32,
    }

    impl Account {
        /// An associated function: `Self` in the signature puts the helpers in the impl.
        #[cached]
        #[must_use]
        pub fn open(id: u32) -> Self {
            Account { id, rate: 3 }
        }

        /// A method: the receiver is not part of the default key.
        #[cached]
        #[must_use]
        pub fn interest(&self, months: u32) -> u64 {
            u64::from(self.rate) * u64::from(months)
        }

        /// A key that reads `self`: `invalidate_balance` takes `&self` too.
        #[cached(key = (self.id, month), tags = [format!("account:{}", self.id)])]
        #[must_use]
        pub fn balance(&self, month: u32, verbose: bool) -> u64 {
            let _ = verbose;
            u64::from(self.id) * 1_000 + u64::from(month)
        }

        /// An `async` method.
        #[cached]
        pub async fn statement(&self, month: u32) -> String {
            format!("{}:{month}", self.id)
        }
    }

    /// Borrowed key expressions: a `&str`, a `&u64`, a tuple of both, an owned value.
    #[cached(key = (symbol, &page))]
    #[must_use]
    pub fn feed(symbol: &str, page: u32, verbose: bool) -> String {
        let _ = verbose;
        format!("{symbol}:{page}")
    }

    /// A body that reads a parameter only after `..`.
    #[cached(key = text.len())]
    #[must_use]
    pub fn head(text: &str, n: usize) -> String {
        text.chars().take(n).collect::<String>() + &"."[..n.min(1)]
    }

    pub trait Source {
        const BASE: u64;
    }

    pub struct Pg;

    impl Source for Pg {
        const BASE: u64 = 10;
    }

    pub struct Repo<S>(pub std::marker::PhantomData<S>);

    impl<S: Source + 'static> Repo<S> {
        /// A method of a generic `impl`: a cache per `Self` type.
        #[cached(ttl = "1m")]
        #[must_use]
        pub fn user(&self, id: u64) -> u64 {
            id + S::BASE
        }

        /// An associated function of a generic `impl`.
        #[cached]
        #[must_use]
        pub fn base() -> u64 {
            S::BASE + Self::EXTRA
        }

        const EXTRA: u64 = 0;
    }

    /// A trait default method (the trait stays dyn-compatible), and one without a receiver.
    pub trait Store {
        fn base(&self) -> u64;

        #[cached]
        fn get(&self, id: u64) -> u64 {
            id + self.base()
        }

        #[cached(ttl = "1m", stale = "10s")]
        #[must_use]
        fn open(id: u64) -> u64
        where
            Self: Sized,
        {
            id
        }
    }

    impl Store for Pg {
        fn base(&self) -> u64 {
            1
        }
    }

    pub trait Shape {
        fn area(&self, scale: u64) -> u64;
    }

    pub struct Square(pub u64);

    /// A trait `impl`: the helpers go to an inherent `impl Square`.
    #[::memocache::cached_impl(pub)]
    impl Shape for Square {
        #[cached]
        fn area(&self, scale: u64) -> u64 {
            self.0 * self.0 * scale
        }
    }

    pub struct Shelf;

    /// An associated function without `self` or `Self`.
    #[::memocache::cached_impl]
    impl Shelf {
        #[cached]
        #[must_use]
        pub fn count(shelf: u32) -> u32 {
            shelf * 10
        }
    }
}

/// Names the prelude gives, shadowed: generated code must not use them bare.
#[allow(dead_code, non_camel_case_types, clippy::upper_case_acronyms)]
mod shadowed {
    use ::memocache::cached;

    struct Ok;
    struct Some;
    struct None;
    struct Option;
    struct Result;
    struct Clone;
    struct Fn;
    struct FnOnce;
    struct Box;
    struct Vec;
    struct String;
    struct Default;
    struct Send;
    struct Sync;
    struct bool;
    struct usize;
    struct u64;
    struct str;
    struct Sized;
    struct TypeId;

    #[cached(ttl = "1s", capacity = 3, tags = ["shadowed"])]
    pub fn plain(x: u32) -> u32 {
        x + 1
    }

    #[cached(key = x)]
    pub fn with_result(x: u32) -> ::core::result::Result<u32, ()> {
        ::core::result::Result::Ok(x)
    }

    #[cached]
    pub async fn later(x: u32) -> u32 {
        x
    }

    #[cached(key = name)]
    pub fn named(name: &::core::primitive::str, n: u32) -> u32 {
        n
    }

    pub struct Thing;

    impl Thing {
        #[cached]
        pub fn method(&self, x: u32) -> u32 {
            x
        }
    }
}

#[test]
fn every_form_runs() {
    use forms::*;

    assert_eq!(area(3, 4), 12);
    assert_eq!(answer(), 42);
    assert!(answer_cache().stats().misses >= 1);
    assert_eq!(price("acme", &Client), Ok(4.0));
    assert!(invalidate_price("acme"));
    assert_eq!(find(2).as_deref(), Some("2"));
    assert_eq!(digits(12_345), 5);
    assert_eq!(digits_cache().name(), "digits");
    assert!(parse("x").is_err());
    assert_eq!(read_len("abc").ok(), Some(3));
    assert_eq!(label("a", 1, Vec::new()), "a#1:0");
    let words = vec!["a".to_owned(), "b".to_owned()];
    assert_eq!(pick(&words, "none", 1), "b");
    assert!(invalidate_pick(&words, "none", 1));
    assert_eq!(countdown(10, 3), 1);
    assert_eq!(refresh_countdown(10, 3), 1);
    assert_eq!(low_byte(0x1_02, 0), 2);
    assert!(r#match(1, 1));
    assert!(invalidate_match(1, 1));
    let n = 7_u32;
    // SAFETY: `n` lives for the call.
    assert_eq!(unsafe { read_at(&raw const n, 1) }, 7);
    // SAFETY: as above.
    assert_eq!(unsafe { refresh_read_at(&raw const n, 1) }, 7);
    assert!(invalidate_read_at(1));
    assert_eq!(configured(1), 1);
    invalidate_all_configured();
    assert_eq!(ffi_double(2), 4);
    assert_eq!(block_on(parse_async(" 12 ".to_owned())).ok(), Some(12));
    assert!(block_on(parse_async("x".to_owned())).is_err());
    assert!(block_on(invalidate_parse_async(" 12 ".to_owned())));
    block_on(invalidate_all_parse_async());

    let account = Account::open(7);
    assert_eq!(account.interest(2), 6);
    assert!(Account::invalidate_interest(2));
    assert_eq!(account.balance(1, false), 7_001);
    assert!(account.invalidate_balance(1));
    assert_eq!(block_on(account.statement(3)), "7:3");
    assert_eq!(block_on(account.refresh_statement(3)), "7:3");
    assert!(
        Account::interest_cache()
            .name()
            .ends_with("Account::interest")
    );
    Account::invalidate_all_open();

    assert_eq!(feed("a", 1, false), "a:1");
    assert!(invalidate_feed("a", 1));
    assert_eq!(head("abc", 2), "ab.");
    let repo = Repo::<Pg>(std::marker::PhantomData);
    assert_eq!(repo.user(1), 11);
    assert!(Repo::<Pg>::invalidate_user(1));
    assert_eq!(Repo::<Pg>::base(), 10);
    let store: &dyn Store = &Pg;
    assert_eq!(store.get(1), 2);
    assert!(<Pg as Store>::invalidate_get(1));
    assert_eq!(<Pg as Store>::open(3), 3);
    assert_eq!(Square(2).area(1), 4);
    assert!(Square::invalidate_area(1));
    assert_eq!(Shelf::count(1), 10);

    assert_eq!(shadowed::plain(1), 2);
    assert_eq!(shadowed::with_result(1), Ok(1));
    assert_eq!(block_on(shadowed::later(5)), 5);
    assert_eq!(shadowed::named("a", 5), 5);
    assert_eq!(shadowed::Thing.method(5), 5);
}
